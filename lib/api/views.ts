/** Response views: executions, summaries, history events and links as the API shows them. */
import type { HistoryEvent } from "../core/engine/types.ts";
import type { ExecutionHeader, ExecutionView } from "../core/ports.ts";
import { activityKeys } from "../runtime/attempt.ts";
import type { ExecutionDetails } from "../runtime/queries.ts";

const iso = (ms: number): string => new Date(ms).toISOString();

/** A JSON pointer into the input (`/items/0/id`) as a path (`input.items[0].id`). */
export function inputPath(pointer: string): string {
  let path = "input";
  for (const raw of pointer.split("/").slice(1)) {
    if (raw === "") continue;
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(part)
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part)
        ? `.${part}`
        : `[${JSON.stringify(part)}]`;
  }
  return path;
}

/** The links of an execution. */
export function links(
  app: string,
  id: string,
): { self: string; history: string; cancel: string; events: string; redrive: string } {
  const base = `/v1/apps/${encodeURIComponent(app)}/executions/${encodeURIComponent(id)}`;
  return {
    self: base,
    history: `${base}/history`,
    cancel: `${base}/cancel`,
    events: `${base}/events`,
    redrive: `${base}/redrive`,
  };
}

/** An execution as listed. */
export function summary(view: ExecutionView): Record<string, unknown> {
  const { header, thread } = view;
  return {
    id: header.executionId,
    app: header.app,
    workflow: header.workflow,
    status: thread.status,
    startedAt: iso(header.startedAt),
    ...(thread.status === "running" ? {} : { endedAt: iso(view.committedAt) }),
    ...(thread.error ? { error: thread.error } : {}),
    links: links(header.app, header.executionId),
  };
}

/** An execution in full. */
export function details(d: ExecutionDetails): Record<string, unknown> {
  const ended = d.status !== "running";
  return {
    id: d.executionId,
    app: d.app,
    workflow: d.workflow,
    tenant: d.tenant,
    status: d.status,
    definitionHash: d.definitionHash,
    startedAt: iso(d.startedAt),
    stateEnteredAt: iso(d.stateEnteredAt),
    ...(ended
      ? {
          endedAt: iso(d.endedAt ?? d.stateEnteredAt),
          durationMs: (d.endedAt ?? d.stateEnteredAt) - d.startedAt,
        }
      : {}),
    transitions: d.transitions,
    // A value too large for one answer is absent, and `omitted` gives its size in bytes.
    ...(d.omitted?.input === undefined ? { input: d.input ?? null } : {}),
    ...(d.omitted?.output === undefined ? { output: d.output ?? null } : {}),
    ...(d.omitted ? { omitted: d.omitted } : {}),
    error: d.error ?? null,
    current: (d.current ?? []).map((c) => ({ ...c, enteredAt: iso(c.enteredAt) })),
    links: links(d.app, d.executionId),
  };
}

/**
 * A history event with its time in ISO 8601; an ActivityScheduled event also with the
 * keys its attempt's activity received (`header` given: computed, never stored).
 */
export const historyEvent = (
  event: HistoryEvent,
  header?: ExecutionHeader,
): Record<string, unknown> => ({
  ...event,
  at: iso(event.at),
  ...(header && event.type === "ActivityScheduled" && event.state !== undefined
    ? {
        keys: activityKeys(header, {
          state: event.state,
          token: { thread: event.thread, step: event.step, attempt: event.attempt ?? 1 },
        }),
      }
    : {}),
});
