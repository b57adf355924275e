/**
 * The log of `cascade dev`: one line per transition, read from the history the
 * runtime appends (after each commit), plus the activities' own log lines.
 * Text for people by default, one JSON object per line for machines.
 */

import { ROOT_THREAD } from "../core/engine/index.ts";
import type { HistoryEvent } from "../core/engine/types.ts";
import type { ExecutionHeader, ExecutionStore, ThreadRecord } from "../core/ports.ts";

export type LogFormat = "text" | "json";

/** Events that add nothing a neighbouring line does not already say. */
const QUIET: ReadonlySet<HistoryEvent["type"]> = new Set(["StateExited", "ActivityScheduled"]);

/** Values shown in text lines are cut to this many characters. */
const TEXT_VALUE_CHARS = 160;

const clock = (at: number): string => new Date(at).toISOString().slice(11, 23);

const short = (value: unknown): string => {
  const text = JSON.stringify(value) ?? "null";
  return text.length > TEXT_VALUE_CHARS ? `${text.slice(0, TEXT_VALUE_CHARS - 1)}…` : text;
};

/** What a history event says, in a few words. */
function describe(event: HistoryEvent): string {
  const error = event.error ? `${event.error.name}: ${event.error.message}` : "";
  const attempt =
    event.attempt !== undefined && event.attempt > 1 ? ` (attempt ${event.attempt})` : "";
  switch (event.type) {
    case "ExecutionStarted":
      return "started";
    case "StateEntered":
      return `entered${attempt}`;
    case "ActivitySucceeded":
      return `activity succeeded${attempt}`;
    case "ActivityFailed":
      return `activity failed${attempt}: ${error}`;
    case "RetryScheduled":
      return `retry scheduled${event.detail?.delayMs === undefined ? "" : ` in ${short(event.detail.delayMs)} ms`}`;
    case "TimerScheduled":
      return `timer set${event.detail?.purpose === undefined ? "" : ` (${short(event.detail.purpose)})`}`;
    case "TimerFired":
      return "timer fired";
    case "EventAwaited":
      return `waiting for event${event.detail?.event === undefined ? "" : ` ${short(event.detail.event)}`}`;
    case "EventReceived":
      return `event received${event.detail?.event === undefined ? "" : ` ${short(event.detail.event)}`}`;
    case "BranchesStarted":
      return "branches started";
    case "BranchFinished":
      return `branch finished${event.detail?.status === undefined ? "" : ` (${short(event.detail.status)})`}`;
    case "BranchesJoined":
      return "branches joined";
    case "ErrorCaught":
      return `caught ${error}`;
    case "ExecutionSucceeded":
      return `SUCCEEDED output=${short(event.output ?? null)}`;
    case "ExecutionFailed":
      return `FAILED ${error}`;
    case "ExecutionCancelled":
      return `CANCELLED ${error}`;
    case "StateExited":
    case "ActivityScheduled":
      return event.type;
    default: {
      const never: never = event.type;
      return String(never);
    }
  }
}

/** One line for one history event (undefined for events that are left out of the log). */
export function formatTransition(
  header: ExecutionHeader,
  event: HistoryEvent,
  format: LogFormat,
): string | undefined {
  if (format === "json") {
    return JSON.stringify({
      time: new Date(event.at).toISOString(),
      level: event.type === "ExecutionFailed" ? "error" : "info",
      kind: "transition",
      event: event.type,
      app: header.app,
      tenant: header.tenant,
      workflow: header.workflow,
      execution: header.executionId,
      thread: event.thread,
      ...(event.state === undefined ? {} : { state: event.state }),
      step: event.step,
      ...(event.attempt === undefined ? {} : { attempt: event.attempt }),
      ...(event.error === undefined ? {} : { error: event.error }),
      ...(event.type === "ExecutionSucceeded" ? { output: event.output ?? null } : {}),
      ...(event.detail === undefined ? {} : { detail: event.detail }),
    });
  }
  if (QUIET.has(event.type)) return undefined;
  const where = event.state ?? "";
  const thread = event.thread === "root" || event.thread === "" ? "" : ` [${event.thread}]`;
  return `${clock(event.at)} ${header.workflow} ${header.executionId}${thread} ${where}${where ? " " : ""}${describe(event)}`;
}

/**
 * Formats a line the runtime logs (activity log lines and metric records, both
 * JSON). In text mode metric records are left out and activity lines are made
 * readable; in JSON mode every line passes through.
 */
export function formatRuntimeLine(line: string, format: LogFormat): string | undefined {
  if (format === "json") return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof record !== "object" || record === null) return line;
  if ("_aws" in record) return undefined;
  const {
    time,
    level,
    message,
    activity: _activity,
    execution,
    workflow,
    state,
    attempt,
    ...fields
  } = record;
  const extra = Object.keys(fields).length > 0 ? ` ${short(fields)}` : "";
  const at = typeof time === "string" ? Date.parse(time) : Number.NaN;
  return `${clock(Number.isNaN(at) ? Date.now() : at)} ${String(workflow ?? "")} ${String(execution ?? "")} ${String(state ?? "")} [${String(level ?? "info")}] ${String(message ?? "")}${extra}${typeof attempt === "number" && attempt > 1 ? ` (attempt ${attempt})` : ""}`;
}

/** Lazy starts whose summary's events were reported, until their first step is written. */
const MAX_PENDING_STARTS = 10_000;

/**
 * Wraps a store so the history of every committed step is also reported, after it is
 * written: a step's events are written with the step itself. A lazy start's events are
 * reported with its summary (step 0, written at once), not when its first activity has
 * ended; the root's first step, which holds them again, reports only what follows.
 */
export function observeHistory(
  store: ExecutionStore,
  onEvents: (header: ExecutionHeader, events: readonly HistoryEvent[]) => void,
): ExecutionStore {
  // Per execution, the last root event its summary reported.
  const started = new Map<string, number>();
  const key = (header: ExecutionHeader) => `${header.tenant}\u0000${header.executionId}`;
  const report = (header: ExecutionHeader, events: readonly HistoryEvent[]) => {
    if (events.length === 0) return;
    try {
      onEvents(header, events);
    } catch {
      // A log line must never fail a transition.
    }
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === "createExecution") {
        return async (record: ThreadRecord, expiresAt?: number) => {
          const result = await target.createExecution(record, expiresAt);
          const last = record.events.at(-1);
          if (result.created && record.version === 0 && last) {
            if (started.size >= MAX_PENDING_STARTS) started.clear();
            started.set(key(record.header), last.seq);
            report(record.header, record.events);
          }
          return result;
        };
      }
      if (property === "putThread") {
        return async (record: ThreadRecord, expected: number, expiresAt?: number) => {
          const written = await target.putThread(record, expected, expiresAt);
          if (!written) return written;
          let events = record.events;
          if (record.thread.id === ROOT_THREAD && record.version === 1) {
            const reported = started.get(key(record.header));
            if (reported !== undefined) {
              started.delete(key(record.header));
              events = events.filter((e) => e.thread !== ROOT_THREAD || e.seq > reported);
            }
          }
          report(record.header, events);
          return written;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === "function"
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
