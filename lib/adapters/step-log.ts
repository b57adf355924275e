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

/** The transition queue's name, which a stored outbox leaves out. */
const TRANSITIONS = "transitions";

/** The id the runtime gives message `n` of a step's outbox (message-ids.ts). */
function outboxMid(record: { thread: { id: string }; version: number }, n: number): string {
  return `${record.thread.id}#${record.version}/${n}`;
}

/** True for a branch thread of `joinId` itself, not one nested below it. */
export function isChildOf(threadId: string, joinId: string): boolean {
  return /^\[\d+\]$/.test(threadId.slice(joinId.length));
}

/**
 * A step as stored: without the execution header (every read of a step has it; the
 * summary item keeps it), the outbox's messages without it either, and the events
 * without their thread, step and time when they are the step's own — the header, with an input up to a KB, is
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
    // Message n of the outbox is usually `<thread>#<step>/<n>` on the transition queue.
    outbox: record.outbox.map((message, n) => {
      const { header: _header, ...body } = message.body;
      const { mid, queue, ...rest } = message;
      return {
        ...rest,
        ...(mid === outboxMid(record, n) ? {} : { mid }),
        ...(queue === TRANSITIONS ? {} : { queue }),
        body,
      };
    }),
    // An event's step and time are usually the step's own: left out, then restored.
    events: record.events.map(({ thread: _thread, step, at, ...event }) => ({
      ...event,
      ...(step === record.version ? {} : { step }),
      ...(at === record.committedAt ? {} : { at }),
    })),
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
    outbox: (record.outbox ?? []).map(
      (message, n) =>
        ({
          ...message,
          mid: message.mid ?? outboxMid(record, n),
          queue: message.queue ?? TRANSITIONS,
          body: message.body.header ? message.body : { ...message.body, header: record.header },
        }) as typeof message,
    ),
    events: (record.events ?? []).map((event) => ({
      ...event,
      thread: event.thread ?? record.thread.id,
      step: event.step ?? record.version,
      at: event.at ?? record.committedAt,
    })),
  };
}
