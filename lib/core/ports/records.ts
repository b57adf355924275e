/**
 * The records the ports carry: an execution's header, a thread's step, a join, a
 * wide join's tallies, and the pages a listing returns.
 */

import type { ResultLocation } from "../engine/items.ts";
import type { HistoryEvent, JoinState, ThreadState } from "../engine/types.ts";
import type { JsonValue } from "../expr/index.ts";
import type { WireMessage } from "./messages.ts";
import type { Usage } from "./usage.ts";

/** A JSON value as stored: inline, or a reference to the payload store when it is large. */
export type Stored =
  | { readonly inline: JsonValue }
  | { readonly ref: string; readonly bytes: number };

export type ExecutionStatus = "running" | "succeeded" | "failed" | "cancelled";

/** What identifies an execution and never changes after it starts; every message carries it. */
export interface ExecutionHeader {
  readonly tenant: string;
  readonly executionId: string;
  readonly app: string;
  readonly workflow: string;
  /** Content hash of the definition the execution is pinned to. */
  readonly definitionHash: string;
  /** Epoch ms. */
  readonly startedAt: number;
  /** The execution's input (the `workflow.input` of expressions); referenced when over a few KB. */
  readonly input: Stored;
  /**
   * The W3C `traceparent` of the execution's trace (its root span, made by the start),
   * set only when tracing is on. It rides in every message's header, so each hop joins
   * one trace per execution; step items are stored without the header, so it costs
   * them nothing (55 bytes in the summary and in each message).
   */
  readonly traceparent?: string;
}

/** A message the runtime sends, with its logical id (stable across re-sends). */
export interface OutMessage {
  /** `<causing message id>/<n>`: duplicates of one logical message share it. */
  readonly mid: string;
  /** `transitions`, or `worker:<pool>` for a worker pool's queue (lib/manifest/queues.ts). */
  readonly queue: string;
  /** Deliver no earlier than this epoch ms (timers, retry backoff). */
  readonly notBefore?: number;
  /** When it was sent (epoch ms): its receiver reports the transition latency. */
  readonly sentAt?: number;
  /**
   * Its share of the SQS send request that carried it (1/entries), set at each send:
   * its receiver records it with the execution's usage (the sender's invocation may
   * commit nothing of the execution after the send).
   */
  readonly sendShare?: number;
  /**
   * What its sender spent for the execution and recorded nowhere: a lazy start's call,
   * which commits no step (its receiver records it with the execution's usage).
   */
  readonly usage?: Usage;
  readonly body: WireMessage;
}

/**
 * One step of a thread's log (DESIGN.md section 5): the thread's state after the
 * step (data possibly offloaded), the step's history events and the messages it
 * caused. Written once, with a conditional put of a new item: the commit, the
 * history and the optimistic lock at once.
 */
export interface ThreadRecord {
  readonly header: ExecutionHeader;
  readonly thread: StoredThread;
  /** The step's number in the thread's log, from 1; a write of step N+1 names N (0: none yet). */
  readonly version: number;
  /** The logical id of the message whose transition produced this step. */
  readonly causedBy: string;
  /**
   * The received message whose invocation made this step, when it is not `causedBy`
   * (the step was caused by one of its follow-ups, processed inline): a redelivery of
   * that message finds this step and re-sends its outbox.
   */
  readonly origin?: string;
  /** The step's history events: a committed step always has its history. */
  readonly events: readonly HistoryEvent[];
  /** Epoch ms the step was committed (an execution's end is its root's last commit). */
  readonly committedAt: number;
  /** The buffered event this transition consumed, deleted after the commit (again on a redelivery). */
  readonly consumed?: { readonly event: string; readonly key: string };
  /**
   * What the invocation that committed this step spent on AWS for the execution since
   * its previous recorded step (see `Usage`): summed over the steps (and the summary),
   * it is the execution's cost. Absent: nothing recorded (a step of an older version).
   */
  readonly usage?: Usage;
  /**
   * What that transition sent; re-sent when the same message is redelivered. Its
   * `run` messages are stored without the thread they carry (it is this record's).
   */
  readonly outbox: readonly OutMessage[];
}

/**
 * A thread state whose `data` (and a Map iteration's `item`) may live in the payload
 * store. A Map item starts as the iteration's data too: a large one is stored once,
 * by content, and referenced from both.
 */
export type StoredThread = Omit<ThreadState, "data" | "map"> & {
  readonly data: Stored;
  readonly map?: { readonly index: number; readonly item: Stored };
};

/**
 * A join as stored, with the branch inputs. It keeps no outbox: what a report
 * caused is derived again from the join when that report is redelivered — the
 * branches it started (`starts`, kept until they finish) and, if it closed the
 * join (`closedBy`), the parent's continuation.
 */
export interface JoinRecord {
  readonly header: ExecutionHeader;
  readonly join: JoinState;
  readonly inputs: Stored;
  readonly version: number;
  readonly causedBy: string;
  /** Branches started by each report, while any of them is still running. */
  readonly starts: readonly { readonly mid: string; readonly indexes: readonly number[] }[];
  /** The report that closed the join. */
  readonly closedBy?: string;
  /** Small branch outputs by index (see `finished`); other outputs are in the branch records. */
  readonly outputs?: { readonly [index: string]: JsonValue };
  /**
   * The thread that waits for the join, as committed with the fan-out (when small):
   * the report that completes the join continues it from here, without a read; a
   * stale snapshot only costs a failed conditional write and a read.
   */
  readonly parent?: ParentSnapshot;
  /**
   * A wide Map's join (DESIGN.md section 9): its `succeeded` and `failed` stay empty; each
   * item's end is counted in a shard of `shardSize` items (`tallyShard`), each finished
   * shard and each shard's failures in the join's tally (`tallyJoin`); this record is
   * written at the fan-out and when the join closes.
   */
  readonly wide?: {
    readonly shardSize: number;
    /** A Map's `result_writer`: the fan-in writes the results there. */
    readonly writer?: ResultLocation;
  };
}

/**
 * A shard keeps an ended item as one number, `index × 1,000,000 + step`: a step past
 * this one is kept as this one, meaning "its thread's latest step".
 */
export const ENDED_STEP_UNKNOWN = 999_999;

/** A shard of a wide join: its items that ended, each with the step that ended it. */
export interface ShardTally {
  readonly ok: readonly { readonly index: number; readonly step: number }[];
  readonly bad: readonly { readonly index: number; readonly step: number }[];
}

/** A shard with more ended items. */
export function withEnded(tally: ShardTally, add: ShardTally): ShardTally {
  const merge = (a: ShardTally["ok"], b: ShardTally["ok"]) => {
    const byIndex = new Map(a.map((e) => [e.index, e]));
    for (const e of b)
      if (!byIndex.has(e.index))
        byIndex.set(e.index, { index: e.index, step: Math.min(e.step, ENDED_STEP_UNKNOWN) });
    return [...byIndex.values()].sort((x, y) => x.index - y.index);
  };
  return { ok: merge(tally.ok, add.ok), bad: merge(tally.bad, add.bad) };
}

/** A wide join's tally: its finished shards and each shard's failures. */
export interface JoinTally {
  readonly shardsDone: number;
  readonly failures: number;
}

/** A thread's committed state and version, carried so the next step needs no read. */
export interface ParentSnapshot {
  readonly thread: StoredThread;
  readonly version: number;
}

/** The execution as users see it: its root thread's latest step (or, before the first, its summary). */
export type ExecutionView = ThreadRecord;

/** One page of results and the cursor for the next (absent: no more). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly cursor?: string;
}

export interface ListFilter {
  readonly tenant: string;
  readonly app: string;
  readonly workflow?: string;
  readonly status?: ExecutionStatus;
}
