/** An execution's actions: cancel it, send it an event, redrive it from a state with an edited input. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, appPath } from "./api.ts";
import type { ExecutionTrace } from "./history.ts";
import { go, href } from "./route.ts";
import type { Execution } from "./types.ts";
import { checkJson, ErrorBox, JsonEditor } from "./ui.tsx";

/** A state to redrive from, and the thread that entered it (`root`, a branch or a Map item). */
export interface RedriveTarget {
  readonly state: string;
  readonly thread: string;
}

/** States offered in the redrive form (a wide Map's items: pick one in the inspector). */
const MAX_TARGETS = 200;

export function Actions(props: {
  app: string;
  execution: Execution;
  trace?: ExecutionTrace;
  /** The state to redrive from, as chosen in the inspector. */
  from: RedriveTarget | undefined;
  setFrom: (target: RedriveTarget | undefined) => void;
  onDone: () => void;
}) {
  const { app, execution } = props;
  const base = appPath(app, `/executions/${encodeURIComponent(execution.id)}`);
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState<string>();
  const [busy, setBusy] = useState(false);
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    setNote(undefined);
    try {
      await what();
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.code === "UNKNOWN_ROUTE"
          ? new ApiError(404, caught.code, "this API has no such action (an older Cascade?)")
          : caught,
      );
    } finally {
      setBusy(false);
    }
  };

  const waiting = execution.current.find((c) => c.waiting?.startsWith("event:"));
  const [eventName, setEventName] = useState("");
  const [payload, setPayload] = useState("{}");
  useEffect(() => {
    if (waiting?.waiting && eventName === "") setEventName(waiting.waiting.slice("event:".length));
  }, [waiting?.waiting]);

  // The states it entered, root ones first, each with the thread that entered it.
  const visits = props.trace?.visits ?? [];
  const entered: RedriveTarget[] = [];
  const seen = new Set<string>();
  for (const v of [...visits.filter((v) => v.thread === "root"), ...visits]) {
    const key = `${v.thread}\n${v.state}`;
    if (seen.has(key) || entered.length >= MAX_TARGETS) continue;
    seen.add(key);
    entered.push({ state: v.state, thread: v.thread });
  }
  const failed = visits.find((v) => v.thread === "root" && v.status === "failed");
  const failedTarget = failed && { state: failed.state, thread: failed.thread };
  const from = props.from ?? failedTarget ?? entered[0];
  const same = (a: RedriveTarget | undefined, b: RedriveTarget | undefined) =>
    a !== undefined && b !== undefined && a.state === b.state && a.thread === b.thread;
  if (from && !entered.some((t) => same(t, from))) entered.unshift(from);
  const dataAt = visits.findLast((v) => same(v, from))?.input;
  const [input, setInput] = useState<string>();
  const [editInput, setEditInput] = useState(false);
  useEffect(
    () => setInput(JSON.stringify(dataAt ?? execution.input, null, 2)),
    [from?.state, from?.thread, props.trace !== undefined],
  );
  const [redriveOpen, setRedriveOpen] = useState(false);
  useEffect(() => {
    if (props.from) setRedriveOpen(true);
  }, [props.from]);

  const running = execution.status === "running";
  return (
    <div class="actions card" data-testid="actions">
      <div class="row">
        {running && (
          <button
            type="button"
            data-testid="cancel"
            disabled={busy}
            onClick={() =>
              act(async () => {
                await api(`${base}/cancel`, { reason: "cancelled from the console" });
                setNote("cancel requested");
                props.onDone();
              })
            }
          >
            Cancel execution
          </button>
        )}
        {!running && (
          <button
            type="button"
            data-testid="redrive-open"
            onClick={() => setRedriveOpen(!redriveOpen)}
          >
            Redrive…
          </button>
        )}
        {note && <span class="muted">{note}</span>}
      </div>
      {running && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            const parsed = checkJson(payload);
            if (parsed.problems.length > 0) return setError(new Error(parsed.problems.join("; ")));
            void act(async () => {
              await api(`${base}/events`, { event: eventName, payload: parsed.value });
              setNote(`event ${eventName} sent`);
              props.onDone();
            });
          }}
        >
          <label>
            event{" "}
            <input
              data-testid="event-name"
              value={eventName}
              onInput={(e) => setEventName((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <label class="grow">
            payload{" "}
            <input
              data-testid="event-payload"
              value={payload}
              onInput={(e) => setPayload((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" data-testid="send-event" disabled={busy || eventName === ""}>
            Send event
          </button>
        </form>
      )}
      {!running && redriveOpen && (
        <form
          class="redrive"
          data-testid="redrive-form"
          onSubmit={(e) => {
            e.preventDefault();
            const parsed = editInput && input !== undefined ? checkJson(input) : undefined;
            if (parsed && parsed.problems.length > 0)
              return setError(new Error(parsed.problems.join("; ")));
            void act(async () => {
              const started = await api<{ id: string }>(`${base}/redrive`, {
                ...(from === undefined ? {} : { from_state: from.state }),
                ...(from === undefined || from.thread === "root" ? {} : { thread: from.thread }),
                ...(parsed ? { input: parsed.value } : {}),
              });
              props.setFrom(undefined);
              go(href("executions", started.id));
            });
          }}
        >
          <label>
            from state{" "}
            <select
              data-testid="redrive-from"
              value={String(entered.findIndex((t) => same(t, from)))}
              onChange={(e) =>
                props.setFrom(entered[Number((e.currentTarget as HTMLSelectElement).value)])
              }
            >
              {entered.map((t, i) => (
                <option key={`${t.thread}\n${t.state}`} value={String(i)}>
                  {t.state}
                  {t.thread === "root" ? "" : ` — ${t.thread}`}
                  {same(t, failedTarget) ? " (failed)" : ""}
                </option>
              ))}
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              data-testid="redrive-edit"
              checked={editInput}
              onChange={(e) => setEditInput((e.currentTarget as HTMLInputElement).checked)}
            />{" "}
            edit its input (else: its data at that step)
          </label>
          {editInput && input !== undefined && (
            <JsonEditor value={input} onInput={setInput} testid="redrive-input" rows={10} />
          )}
          <button type="submit" data-testid="redrive" disabled={busy}>
            Redrive from {from?.state}
          </button>
        </form>
      )}
      <ErrorBox error={error} />
    </div>
  );
}
