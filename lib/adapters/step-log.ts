/** Rules of the step log (DESIGN.md section 5) that every ExecutionStore adapter keeps. */
import type { ThreadRecord } from "../core/ports.ts";

/** A step's number names the step it follows: a write that names another is a bug, not a race. */
export function checkStep(record: ThreadRecord, expected: number): void {
  if (record.version !== expected + 1)
    throw new RangeError(
      `step ${record.version} of thread ${record.thread.id} cannot follow step ${expected}`,
    );
}

/** True for a branch thread of `joinId` itself, not one nested below it. */
export function isChildOf(threadId: string, joinId: string): boolean {
  return /^\[\d+\]$/.test(threadId.slice(joinId.length));
}

/**
 * A step as stored: the outbox's messages without the execution header (the step has
 * it) and the events without their thread (the step's own) — a few hundred bytes of
 * every step item, which DynamoDB bills per KB.
 */
export function compactStep(record: ThreadRecord): unknown {
  return {
    ...record,
    outbox: record.outbox.map((message) => {
      const { header: _header, ...body } = message.body;
      return { ...message, body };
    }),
    events: record.events.map(({ thread: _thread, ...event }) => event),
  };
}

/** A step as read back: `compactStep` undone. */
export function expandStep(stored: unknown): ThreadRecord {
  const record = stored as ThreadRecord;
  return {
    ...record,
    outbox: (record.outbox ?? []).map((message) =>
      message.body.header
        ? message
        : ({ ...message, body: { ...message.body, header: record.header } } as typeof message),
    ),
    events: (record.events ?? []).map((event) =>
      event.thread === undefined ? { ...event, thread: record.thread.id } : event,
    ),
  };
}
