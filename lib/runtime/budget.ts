/**
 * Size budgets: what keeps every item under DynamoDB's 400 KB and every message under
 * SQS's 256 KiB whatever the data (DESIGN.md invariant 7), and what is cheaper to
 * reference than to carry.
 */
import type { HistoryEvent, ThreadState } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  JoinRecord,
  OutMessage,
  Stored,
  StoredThread,
  ThreadRecord,
  WireMessage,
} from "../core/ports.ts";
import type { PayloadCodec, PayloadOwner } from "./codec.ts";

/**
 * Inputs up to this size ride in every message's header; larger ones are referenced
 * (stored once, by content, and cached by each process). The header is in every
 * message and in every root step: a 4 KB input made each of a Map's thousand item
 * messages 4 KB, and each root step 4 write units.
 */
export const HEADER_INPUT_INLINE_BYTES = 1024;
/**
 * A message or item over this many bytes of JSON has its large parts moved to the
 * payload store, whatever the offload threshold: SQS takes 256 KiB per message and
 * DynamoDB 400 KB per item, and a step's data and an activity's input could each be
 * just under the threshold.
 */
export const ENVELOPE_BUDGET_BYTES = 200 * 1024;
/** History events keep inputs and outputs up to this size inline; larger ones are referenced. */
export const HISTORY_INLINE_BYTES = 8 * 1024;
/** Branch outputs up to this size travel in the `finished` report and live in the join. */
export const SMALL_OUTPUT_BYTES = 1024;
/** Parallel branches past this index keep their output in their own record (the join item stays small). */
export const MAX_BRANCHES_WITH_OUTPUTS_IN_JOIN = 64;

/**
 * Branch starts or cancels one message causes at most: a wider fan-out, refill or
 * cancel sends this many and a message for the next page (DESIGN.md section 9), so
 * no invocation does work proportional to the width of a Map.
 */
export const BRANCH_PAGE = 500;
/** A Map iteration's item over this size is referenced from its thread, not carried inline. */
export const MAP_ITEM_INLINE_BYTES = 8 * 1024;
/**
 * A message over this many bytes has its input referenced, then (a run) stops carrying
 * its thread: SQS takes 256 KiB, and the envelope and header need a little room.
 */
export const MESSAGE_BUDGET_BYTES = 240 * 1024;
/** Snapshots of the waiting thread larger than this are not carried in its join (a read is cheaper than the bytes). */
export const PARENT_SNAPSHOT_BYTES = 8 * 1024;

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * The size of a value's JSON when it is at most `limit` bytes, else `limit + 1`: walks
 * no more of the value than `limit` bytes' worth, so asking whether 6 MB of data fits
 * in 1 KB costs microseconds, not a 6 MB serialisation.
 */
export function jsonBytesUpTo(value: unknown, limit: number): number {
  let total = 0;
  const walk = (v: unknown): boolean => {
    if (total > limit) return false;
    if (v === null || typeof v === "boolean" || typeof v === "number") {
      total += JSON.stringify(v).length;
    } else if (typeof v === "string") {
      total += v.length > limit ? limit + 1 : Buffer.byteLength(JSON.stringify(v));
    } else if (Array.isArray(v)) {
      total += 2 + Math.max(0, v.length - 1);
      for (const item of v) if (!walk(item ?? null)) return false;
    } else if (typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>).filter(
        ([, item]) => item !== undefined,
      );
      total += 2 + Math.max(0, entries.length - 1);
      for (const [key, item] of entries) {
        total += Buffer.byteLength(JSON.stringify(key)) + 1;
        if (!walk(item)) return false;
      }
    }
    return total <= limit;
  };
  walk(value);
  return Math.min(total, limit + 1);
}

/**
 * Keeps a step within its budget: when the outbox stored with it (inputs of runs and
 * branches) would make it too large, those inputs move to the payload store, largest
 * first. A Parallel of 50 branches on 100 KB of data would otherwise put 5 MB in one item.
 */
export async function fit(
  codec: PayloadCodec,
  owner: PayloadOwner,
  thread: StoredThread,
  outbox: OutMessage[],
): Promise<void> {
  let size = bytes(thread) + bytes(outbox);
  if (size <= ENVELOPE_BUDGET_BYTES) return;
  const order = outbox
    .map((message, index) => ({
      index,
      input: "input" in message.body ? message.body.input : undefined,
    }))
    .filter(
      (e): e is { index: number; input: Stored } => e.input !== undefined && "inline" in e.input,
    )
    .sort((a, b) => bytes(b.input) - bytes(a.input));
  for (const { index, input } of order) {
    if (size <= ENVELOPE_BUDGET_BYTES || !("inline" in input)) break;
    const message = outbox[index];
    if (!message) continue;
    const before = bytes(input);
    const stored = await codec.store(input.inline, owner, true);
    outbox[index] = { ...message, body: { ...message.body, input: stored } as WireMessage };
    size -= before - bytes(stored);
  }
}

/** A large history value in the payload store: its key (under its execution's prefix) and size. */
export interface HistoryRef {
  readonly ref: string;
  readonly bytes: number;
}

/**
 * A history event as stored. A large `input` or `output` moves out of the event into
 * `refs`, a field of the event itself that the engine never writes: no user value,
 * however it is shaped, is ever read as a reference. Reading history also resolves a
 * reference only under its own execution's prefix (see queries.ts).
 */
export interface StoredHistoryEvent extends HistoryEvent {
  readonly refs?: { readonly input?: HistoryRef; readonly output?: HistoryRef };
}

/** A history value over this size that repeats in its step (or is the thread's data) is referenced. */
export const HISTORY_REPEAT_BYTES = 1024;

/**
 * History events carry inputs and outputs; large ones are replaced by a reference, and
 * so are values of more than 1 KB that the step's item holds already (the thread's data,
 * or another event's value): an item never carries the same data many times.
 */
export async function storeHistory(
  codec: PayloadCodec,
  owner: PayloadOwner,
  events: readonly HistoryEvent[],
  data?: JsonValue,
): Promise<StoredHistoryEvent[]> {
  const out: StoredHistoryEvent[] = [];
  const seen = new Set<string>();
  let dataText: string | undefined;
  for (const event of events) {
    let next: StoredHistoryEvent = event;
    for (const field of ["input", "output"] as const) {
      const value = next[field];
      if (value === undefined) continue;
      // A step item is billed per KB on every write: past a few KB a reference is
      // cheaper, and the payload is usually stored already (content-addressed).
      const size = jsonBytesUpTo(value, HISTORY_INLINE_BYTES);
      if (size <= HISTORY_REPEAT_BYTES) continue;
      if (size <= HISTORY_INLINE_BYTES) {
        const text = JSON.stringify(value);
        if (dataText === undefined && data !== undefined) dataText = JSON.stringify(data);
        const repeated = seen.has(text) || text === dataText;
        seen.add(text);
        if (!repeated) continue;
      }
      const stored: Stored = await codec.store(value, owner, true);
      if ("ref" in stored) {
        const { [field]: _moved, ...rest } = next;
        next = {
          ...rest,
          refs: { ...next.refs, [field]: { ref: stored.ref, bytes: stored.bytes } },
        };
      }
    }
    out.push(next);
  }
  return out;
}

/** The output of a Parallel branch thread that ended, when small enough to travel with its report. */
export function smallBranchOutput(thread: ThreadState): JsonValue | undefined {
  const last = thread.flow.at(-1);
  if (!thread.parent || last?.branch === undefined) return undefined;
  if (thread.parent.index >= MAX_BRANCHES_WITH_OUTPUTS_IN_JOIN) return undefined;
  return jsonBytesUpTo(thread.data, SMALL_OUTPUT_BYTES) <= SMALL_OUTPUT_BYTES
    ? thread.data
    : undefined;
}

/** The join with a snapshot of the thread that starts it, when small enough. */
export function withParent(join: JoinRecord, parent: ThreadRecord): JoinRecord {
  const snapshot = { thread: parent.thread, version: parent.version };
  return bytes(snapshot) <= PARENT_SNAPSHOT_BYTES ? { ...join, parent: snapshot } : join;
}
