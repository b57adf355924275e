/** Small shared pieces: status badges, times, JSON views and editors, error boxes. */
import { Validator } from "@cfworker/json-schema";
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import type { Json } from "./types.ts";

export function Badge({ status }: { status: string }) {
  return <span class={`badge s-${status}`}>{status}</span>;
}

/** `12:03:04.120` today, else the date too. */
export function time(iso: string | number | undefined): string {
  if (iso === undefined) return "";
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  const clock = date.toLocaleTimeString(undefined, { hour12: false });
  return today ? clock : `${date.toLocaleDateString()} ${clock}`;
}

/** `340 ms`, `2.1 s`, `3 min 4 s`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Values longer than this (as JSON) are shown on demand. */
const SHOWN_CHARS = 2_000;

/** A JSON value, pretty-printed; a large one behind a button. */
export function JsonView({ value, label }: { value: Json | undefined; label?: string }) {
  const [open, setOpen] = useState(false);
  if (value === undefined) return <span class="muted">–</span>;
  const text = JSON.stringify(value, null, 2);
  if (text.length > SHOWN_CHARS && !open)
    return (
      <button type="button" class="link" onClick={() => setOpen(true)}>
        show {label ?? "value"} ({Math.round(text.length / 1024)} KB)
      </button>
    );
  return <pre class="json">{text}</pre>;
}

/** An error answer of the API, with its problems. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      <strong>{e ? e.code : "Error"}</strong>{" "}
      {error instanceof Error ? error.message : String(error)}
      {e && e.problems.length > 0 && (
        <ul>
          {e.problems.map((p) => (
            <li key={p.path}>
              <code>{p.path}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The problems of `text` as an input: not JSON, or not matching `schema`. */
export function checkJson(
  text: string,
  schema?: { [key: string]: Json } | null,
): { value?: Json; problems: string[] } {
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (error) {
    return { problems: [`not JSON: ${(error as Error).message}`] };
  }
  if (!schema) return { value, problems: [] };
  const result = new Validator(schema as never, "2020-12", false).validate(value);
  if (result.valid) return { value, problems: [] };
  // The leaf errors say what is wrong; the others repeat them one level up.
  const leaves = result.errors.filter(
    (e) =>
      !result.errors.some(
        (o) => o !== e && o.instanceLocation.startsWith(`${e.instanceLocation}/`),
      ),
  );
  return {
    value,
    problems: [
      ...new Set(
        leaves.map((e) => `${e.instanceLocation.replace(/^#/, "input") || "input"}: ${e.error}`),
      ),
    ],
  };
}

/** A JSON editor: a textarea, checked on every edit (against `schema` when given). */
export function JsonEditor(props: {
  value: string;
  onInput: (text: string) => void;
  schema?: { [key: string]: Json } | null;
  rows?: number;
  testid?: string;
}) {
  const { problems } = checkJson(props.value, props.schema);
  return (
    <div class="editor">
      <textarea
        data-testid={props.testid}
        spellcheck={false}
        rows={props.rows ?? 8}
        value={props.value}
        onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {problems.length > 0 ? (
        <ul class="problems" data-testid={props.testid ? `${props.testid}-problems` : undefined}>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : (
        <div class="ok">{props.schema ? "valid against the input schema" : "valid JSON"}</div>
      )}
    </div>
  );
}

export function Card(props: {
  title: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  testid?: string;
}) {
  return (
    <section class={`card ${props.class ?? ""}`} data-testid={props.testid}>
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}

/** Calls `load` now and every `everyMs` while `active`; the latest answer or error. */
export function usePoll<T>(
  load: () => Promise<T>,
  deps: unknown[],
  /** The pause before the next read, or a function of what the last read gave. */
  everyMs: number | ((data: T) => number),
  active = true,
) {
  const [state, setState] = useState<{ data?: T; error?: unknown }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pause = typeof everyMs === "number" ? everyMs : 0;
    const run = () => {
      load()
        .then(
          (data) => {
            if (typeof everyMs === "function") pause = everyMs(data);
            if (live) setState({ data });
          },
          (error: unknown) => live && setState((s) => ({ ...s, error })),
        )
        .finally(() => {
          if (live && active) timer = setTimeout(run, Math.max(pause, 250));
        });
    };
    run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [...deps, active, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
