/** Rules of the step log (DESIGN.md section 5) that every ExecutionStore adapter keeps. */
import { ROOT_THREAD } from "../core/engine/index.ts";
import type { ExecutionHeader, ThreadRecord } from "../core/ports.ts";

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
 * A step as stored: without the execution header (every read of a step has it; the
 * summary item keeps it), the outbox's messages without it either, and the events
 * without their thread (the step's own) — the header, with an input up to a KB, is
 * in every message, and DynamoDB bills items per KB.
 * @param keepHeader true for the summary item, which lists read without a header; by
 *   default the root's steps keep it too (`GET execution` reads the latest by id alone).
 */
export function compactStep(
  record: ThreadRecord,
  keepHeader = record.thread.id === ROOT_THREAD,
): unknown {
  const { header, ...rest } = record;
  return {
    ...(keepHeader ? { header } : {}),
    ...rest,
    outbox: record.outbox.map((message) => {
      const { header: _header, ...body } = message.body;
      return { ...message, body };
    }),
    events: record.events.map(({ thread: _thread, ...event }) => event),
  };
}

/**
 * A step as read back: `compactStep` undone.
 * @param header the execution's header, for a step stored without it.
 */
export function expandStep(stored: unknown, header?: ExecutionHeader): ThreadRecord {
  const read = stored as ThreadRecord;
  const record = read.header || !header ? read : { ...read, header };
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
