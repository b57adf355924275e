/** The execution store port: the step log, joins, events, listings, links and usage. */

import type { HistoryEvent } from "../engine/types.ts";
import type {
  ExecutionHeader,
  ExecutionView,
  JoinRecord,
  JoinTally,
  ListFilter,
  Page,
  ShardTally,
  Stored,
  ThreadRecord,
} from "./records.ts";
import type { Usage } from "./usage.ts";

/** What a store reports that a caller can act on: `code` is stable, the class name is not. */
export type StoreErrorCode =
  /** The tenant has no table in this deployment (silo isolation). */
  | "UNKNOWN_TENANT"
  /** A page cursor the store did not issue, or one of another execution. */
  | "INVALID_CURSOR";

/** A coded store error: adapters raise it (or a subclass); callers match on `code`. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}

/**
 * Execution state as a step log: one conditional put of a new item per step, no
 * transactions, no read on the happy path (messages carry the state they apply to).
 */
export interface ExecutionStore {
  /**
   * Writes the execution's summary (listing keys, status) unless one with that id
   * exists; returns the existing one then. At start its record is the root's first step.
   */
  createExecution(
    record: ThreadRecord,
    expiresAt?: number,
  ): Promise<{ created: true } | { created: false; existing: ThreadRecord }>;
  /** Rewrites the summary (at the end: status and outcome); idempotent. */
  putSummary(record: ThreadRecord, expiresAt?: number): Promise<void>;
  /** The summary as listed (status and times), without the root's log. */
  getSummary(tenant: string, executionId: string): Promise<ThreadRecord | undefined>;
  /** The root thread's latest step, or the summary when no step is written yet. */
  getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined>;
  /** A thread's latest step. */
  getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined>;
  /** A thread's latest `limit` steps, newest first. */
  recentSteps(header: ExecutionHeader, threadId: string, limit: number): Promise<ThreadRecord[]>;
  /** Step `step` of a thread's log: the state after it (redrive, the step inspector). */
  stateAt(
    header: ExecutionHeader,
    threadId: string,
    step: number,
  ): Promise<ThreadRecord | undefined>;
  /**
   * Writes step `expected + 1` (`record.version`) of a thread unless it exists.
   * False when another writer committed that step first.
   */
  putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean>;
  /** The latest step of each branch thread of a join (ids `<joinId>[<index>]`). */
  joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]>;
  /** The latest step of every branch thread of an execution (not the root). */
  branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]>;
  getJoin(header: ExecutionHeader, joinId: string): Promise<JoinRecord | undefined>;
  putJoin(record: JoinRecord, expected: number, expiresAt?: number): Promise<boolean>;
  /**
   * Adds ended items to a shard of a wide join (a set: adding an item again changes
   * nothing) and returns the shard as it was before and is after. One write of
   * O(shard size) bytes.
   */
  tallyShard(
    header: ExecutionHeader,
    joinId: string,
    shard: number,
    add: ShardTally,
    expiresAt?: number,
  ): Promise<{ before: ShardTally; after: ShardTally }>;
  /** Shards of a wide join as they are (an absent shard: no item ended in it). */
  readShards(
    header: ExecutionHeader,
    joinId: string,
    shards: readonly number[],
  ): Promise<Map<number, ShardTally>>;
  /**
   * Notes in a wide join's tally that `done` shards finished and that shard
   * `failures.shard` has (at least) `failures.count` failed items; idempotent and
   * monotone, so reports in any order and again leave the same tally. Returns it.
   */
  tallyJoin(
    header: ExecutionHeader,
    joinId: string,
    update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
    expiresAt?: number,
  ): Promise<JoinTally>;
  /** Given steps of threads, by key (absent ones are left out). */
  getSteps(
    header: ExecutionHeader,
    keys: readonly { readonly thread: string; readonly step: number }[],
  ): Promise<ThreadRecord[]>;
  /**
   * A page of the execution's history: each thread's steps in order, the root's first.
   * @throws StoreError `INVALID_CURSOR` for a cursor this store did not issue for it.
   */
  readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>>;
  /**
   * Execution summaries, newest first.
   * @throws StoreError `INVALID_CURSOR` for a cursor this store did not issue.
   */
  listExecutions(filter: ListFilter, limit: number, cursor?: string): Promise<Page<ExecutionView>>;
  putDefinition(hash: string, name: string, source: string): Promise<void>;
  getDefinition(hash: string): Promise<{ name: string; source: string } | undefined>;
  /**
   * Keeps an external event until a state takes it. `id` is the sender's (idempotency):
   * a second event with an id already buffered — or already consumed — is refused
   * (returns false). `order` sorts events of one name in arrival order.
   */
  bufferEvent(
    header: ExecutionHeader,
    event: string,
    id: string,
    order: string,
    payload: Stored,
    expiresAt?: number,
  ): Promise<boolean>;
  /** The oldest event of that name still waiting, if any, with its id (the key to consume it by). */
  peekBufferedEvent(
    header: ExecutionHeader,
    event: string,
  ): Promise<{ key: string; payload: Stored } | undefined>;
  /**
   * The thread that consumed the event with this id, once one did, and the threads
   * noted as about to take it (`takers`, when any): a consumer that stopped before
   * marking the event is one of them.
   */
  bufferedEventConsumer(
    header: ExecutionHeader,
    event: string,
    key: string,
  ): Promise<{ consumedBy?: string; takers?: readonly string[] } | undefined>;
  /**
   * Notes, before a thread's commit that takes buffered event `key`, that the thread
   * is about to (a retried signal then looks for its consumer among these only, not
   * among every waiting thread); idempotent, a set. No error when the event is gone.
   */
  noteEventTaker(
    header: ExecutionHeader,
    event: string,
    key: string,
    thread: string,
  ): Promise<void>;
  /**
   * Marks a buffered event consumed once a thread's commit has taken it (it leaves a
   * marker naming the thread, so its id stays used); idempotent.
   */
  deleteBufferedEvent(
    header: ExecutionHeader,
    event: string,
    key: string,
    consumedBy?: string,
  ): Promise<void>;
  /**
   * Records that branch thread `thread` waits, from its step `version`, for event
   * `event` (the waiter index `signal` reads instead of every thread): written before
   * that step's commit, deleted after the step that ends the wait; idempotent. An entry
   * whose thread moved on is harmless (delivery checks the thread's latest step).
   */
  putEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
    expiresAt?: number,
  ): Promise<void>;
  /** Removes a waiter entry (no error when it is absent). */
  deleteEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
  ): Promise<void>;
  /**
   * A page of the waiter entries of event `event` (by thread id, then step): one
   * bounded query, however many threads the execution has.
   * @throws StoreError `INVALID_CURSOR` for a cursor this store did not issue for it.
   */
  eventWaiters(
    header: ExecutionHeader,
    event: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<EventWaiter>>;
  /**
   * Records that the execution is to stop, before the cancel is applied: queued work
   * (a delayed retry, a branch's first run) and running activities check it.
   */
  requestCancel(header: ExecutionHeader, reason: string, expiresAt?: number): Promise<void>;
  /** The reason of a cancel request, if one was made. */
  cancelRequested(header: ExecutionHeader): Promise<string | undefined>;
  /**
   * Notes why a message failed, for the dead-letter handler to report and for its
   * redelivery to tell a handler that threw from one that died (a killed function).
   */
  noteFailure(header: ExecutionHeader, note: FailureNote, expiresAt?: number): Promise<void>;
  lastFailure(header: ExecutionHeader): Promise<FailureNote | undefined>;
  /**
   * Links two executions of a redrive: `redriveOf` in the new one (one item), `redrive`
   * in the original (one item per redrive, append-only, ordered by `at`). Idempotent.
   */
  putLink(
    owner: ExecutionOwner,
    link: {
      readonly kind: "redriveOf" | "redrive";
      readonly executionId: string;
      readonly at: number;
    },
    expiresAt?: number,
  ): Promise<void>;
  /** An execution's redrive links: the one it redrives, and its redrives in order. */
  links(owner: ExecutionOwner): Promise<ExecutionLinks>;
  /**
   * The sum of the `usage` recorded in the execution's items (its steps and its
   * summary): queries over its partition, reading at most `maxItems` of its items
   * (`complete` false when it has more: the sum is then of those read).
   */
  usageOf(owner: ExecutionOwner, maxItems: number): Promise<{ usage: Usage; complete: boolean }>;
}

/** An execution by tenant and id. */
export interface ExecutionOwner {
  readonly tenant: string;
  readonly executionId: string;
}

/** What links an execution to others (redrive). */
export interface ExecutionLinks {
  /** The execution this one redrives. */
  readonly redriveOf?: string;
  /** Epoch ms of that redrive (it orders the original's `redrives`). */
  readonly redrivenAt?: number;
  /** The executions that redrive this one, oldest first. */
  readonly redrives: readonly string[];
}

/** A waiter entry: a branch thread that waits for an event from its step `version`. */
export interface EventWaiter {
  readonly thread: string;
  readonly version: number;
}

/** Why a message of an execution last failed. */
export interface FailureNote {
  /** The failed message's logical id. */
  readonly mid: string;
  /** The error, cut to a readable length. */
  readonly reason: string;
}
