/**
 * The ports: what the runtime needs from the outside world. Adapters implement
 * them over DynamoDB, SQS and S3 (`lib/adapters/aws`) or in memory for seeded
 * simulations (`lib/adapters/memory`); one contract suite runs against both.
 */

import type { ItemSource, ResultLocation } from "./engine/items.ts";
import type {
  CachePolicy,
  FlowRef,
  HistoryEvent,
  JoinOutcome,
  JoinState,
  Metric,
  ThreadState,
  WorkflowError,
} from "./engine/types.ts";
import type { JsonValue } from "./expr/index.ts";

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

/** Messages on the wire. Every message carries the execution's header. */
export type WireMessage =
  | {
      /** Run an activity for a thread, then apply its outcome; carries the thread so the happy path reads nothing. */
      readonly kind: "run";
      readonly header: ExecutionHeader;
      /** Absent only in a record's stored outbox, where the record itself holds it. */
      readonly thread?: StoredThread;
      readonly version: number;
      readonly input: Stored;
      readonly activity: string;
      readonly token: { readonly thread: string; readonly step: number; readonly attempt: number };
      readonly state: string;
      readonly idempotencyKey: string;
      readonly timeoutMs?: number;
      readonly heartbeatMs?: number;
      /** The Task's `cache` policy, its key evaluated. */
      readonly cache?: CachePolicy;
      /**
       * The history of a branch's start, which has no step of its own yet: written with
       * the branch's first step (the run's commit).
       */
      readonly events?: readonly HistoryEvent[];
      /**
       * What to read before running queued work that may no longer be wanted: every run
       * checks the execution's cancel request (`cancel`); a retry that waited and a
       * branch its join may drop (ANY/AT_LEAST) also read their thread (`thread`).
       */
      readonly check?: RunCheck;
    }
  | {
      /** Apply one event to one thread (timers, worker results, cancellation, external events, joins). */
      readonly kind: "event";
      readonly header: ExecutionHeader;
      readonly thread: string;
      readonly event: StoredEvent;
    }
  | {
      /** Start branch or item `index` of a join. */
      readonly kind: "branch";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly index: number;
      readonly flow: FlowRef;
      readonly input: Stored;
      /** Set for a Map item: its index (the item is the input). */
      readonly mapIndex?: number;
      /** What the branch's first run reads before it starts (see `run`). */
      readonly check?: RunCheck;
    }
  | {
      readonly kind: "finished";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly index: number;
      readonly status: "succeeded" | "failed" | "cancelled";
      readonly error?: WorkflowError;
      /** A small output of a Parallel branch, kept in the join (no read of the branch at the end). */
      readonly output?: JsonValue;
      /** Applied at once, not with the batch's other reports (ANY and AT_LEAST continue early). */
      readonly eager?: true;
      /** The branch's last step (a wide join's fan-in reads it by key). */
      readonly step?: number;
    }
  | {
      readonly kind: "cancel-join";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      /**
       * A page of a closed join's cancel: the branches still running past this index
       * are cancelled, a page at a time (absent: cancel the open join itself).
       */
      readonly after?: number;
      /** A page of a closed wide join's cancel: its shards from this one on (see `WideJoin`). */
      readonly shard?: number;
    }
  | {
      /** A page of a wide join's fan-in: the outputs of its shards from `page` × `SHARDS_PER_PAGE` on. */
      readonly kind: "collect-join";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly page: number;
      /** With a result writer: what the pages before this one wrote. */
      readonly written?: { readonly succeeded: number; readonly failed: number };
    }
  | {
      /** A page of a Map's `item_reader` object, read into a page of the payload store. */
      readonly kind: "read-items";
      readonly header: ExecutionHeader;
      readonly token: { readonly thread: string; readonly step: number };
      readonly source: ItemSource;
      readonly page: number;
      /** Where the page starts reading (`START_CURSOR` for the first). */
      readonly cursor: JsonValue;
      /** The first item index of each page read before this one. */
      readonly starts: readonly number[];
    }
  | {
      /** The branches a fan-out started, as kept in the thread's stored outbox; rebuilt from the join. */
      readonly kind: "start-branches";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly indexes: readonly number[];
      /** And the branches `from` (inclusive) to `to` (exclusive): started a page at a time. */
      readonly range?: { readonly from: number; readonly to: number };
      /** The join as the fan-out created it: a re-send creates it if the first send stopped before. */
      readonly create?: {
        readonly join: JoinState;
        readonly inputs: Stored;
        readonly wide?: JoinRecord["wide"];
      };
    }
  | {
      /** A thread started waiting for an event: deliver one that arrived early, if any. */
      readonly kind: "take-event";
      readonly header: ExecutionHeader;
      readonly thread: string;
      readonly event: string;
    }
  | {
      readonly kind: "join-complete";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly parent: { readonly thread: string; readonly step: number };
      readonly outcome: JoinOutcome;
      /** The waiting thread as the join last knew it: continuing it needs no read when still current. */
      readonly parentSnapshot?: ParentSnapshot;
    }
  | {
      /** A dedicated worker's job: run the activity, send the outcome back as an `event`. */
      readonly kind: "work";
      readonly header: ExecutionHeader;
      readonly input: Stored;
      readonly activity: string;
      readonly token: { readonly thread: string; readonly step: number; readonly attempt: number };
      readonly state: string;
      readonly idempotencyKey: string;
      readonly timeoutMs?: number;
      readonly heartbeatMs?: number;
      readonly cache?: CachePolicy;
    };

/** See the `run` message's `check`. */
export type RunCheck = "cancel" | "thread";

/** A thread event whose payload (activity output, event payload) may be offloaded. */
export type StoredEvent =
  | {
      readonly type: "ActivitySucceeded";
      readonly token: { thread: string; step: number; attempt: number };
      readonly output: Stored;
      readonly cache?: "hit" | "miss";
    }
  | {
      readonly type: "ActivityFailed";
      readonly token: { thread: string; step: number; attempt: number };
      readonly error: WorkflowError;
      readonly cache?: "miss";
    }
  | {
      readonly type: "ActivityHeartbeat";
      readonly token: { thread: string; step: number; attempt: number };
    }
  | {
      readonly type: "TimerFired";
      readonly token: { thread: string; step: number; attempt?: number };
      readonly purpose: "wait" | "timeout" | "heartbeat" | "event-timeout" | "workflow-timeout";
      readonly seq?: number;
    }
  | { readonly type: "EventReceived"; readonly event: string; readonly payload: Stored }
  | { readonly type: "CancelRequested"; readonly reason: string }
  | { readonly type: "Aborted"; readonly error: WorkflowError };

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

/**
 * AWS usage attributed to one execution: what its steps cost at list prices. Fractions
 * are shares of requests shared with other executions (an SQS batch, an invocation).
 */
export interface Usage {
  /** DynamoDB write capacity units (1 KB each, rounded up per item). */
  readonly wcu: number;
  /** DynamoDB read capacity units (4 KB each for a strongly consistent read, 8 KB eventual). */
  readonly rcu: number;
  /** SQS requests (sends, receives, deletes). */
  readonly sqs: number;
  /** S3 PUT-class requests (put, multipart parts). */
  readonly s3: number;
  /** S3 GET-class requests. */
  readonly s3Get: number;
  /** Lambda invocations. */
  readonly invocations: number;
  /** Lambda GB-seconds: measured milliseconds times the function's memory. */
  readonly gbs: number;
}

/** No usage. */
export const NO_USAGE: Usage = {
  wcu: 0,
  rcu: 0,
  sqs: 0,
  s3: 0,
  s3Get: 0,
  invocations: 0,
  gbs: 0,
};

/** The sum of two usages. */
export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  return {
    wcu: a.wcu + (b.wcu ?? 0),
    rcu: a.rcu + (b.rcu ?? 0),
    sqs: a.sqs + (b.sqs ?? 0),
    s3: a.s3 + (b.s3 ?? 0),
    s3Get: a.s3Get + (b.s3Get ?? 0),
    invocations: a.invocations + (b.invocations ?? 0),
    gbs: a.gbs + (b.gbs ?? 0),
  };
}

/**
 * Where adapters report the requests they make for an execution (the runtime's usage
 * meter): each charge goes to the invocation being metered, if any.
 */
export interface UsageSink {
  charge(owner: ExecutionOwner, usage: Partial<Usage>): void;
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

/**
 * Sends messages: batched, delayed when `notBefore` is in the future (chained past
 * SQS's 15 minutes). @throws an error with `unsent` (the `messageKey`s of those not
 * sent; the others were) when the queue refused some of them.
 */
export interface MessageQueue {
  send(messages: readonly OutMessage[], now: number): Promise<void>;
}

/**
 * A message's identity across executions: logical ids are unique within an execution
 * (`root#3/0` names a step of that execution's root).
 */
export function messageKey(message: OutMessage): string {
  return keyInExecution(message.body.header, message.mid);
}

/** The `messageKey` of logical id `mid` in an execution. */
export function keyInExecution(
  header: { readonly tenant: string; readonly executionId: string },
  mid: string,
): string {
  return `${header.tenant}\u0000${header.executionId}\u0000${mid}`;
}

/** The keys (`messageKey`) of the messages a failed `send` did not send, when it says which. */
export function unsentOf(error: unknown): readonly string[] | undefined {
  const unsent = (error as { unsent?: unknown } | null)?.unsent;
  return Array.isArray(unsent) && unsent.every((m) => typeof m === "string") ? unsent : undefined;
}

/** Where metrics go: CloudWatch EMF lines on Lambda, the same samples locally. */
export interface MetricsSink {
  /** Metrics of one execution that share their dimensions. `at` is epoch ms. */
  emit(header: ExecutionHeader, metrics: readonly Metric[], at: number): void;
  /** The transition latencies (ms) of the messages one batch handled. */
  latencies(app: string, values: readonly number[], at: number): void;
  /** One SQS batch: its records and how many failed (reported for redelivery). */
  records?(app: string, received: number, failed: number, at: number): void;
  /** One HTTP API request's own latency in ms: its handling, less any wait for an execution's end. */
  apiLatency?(app: string, ms: number, at: number): void;
}

/** Large JSON values, by key. */
export interface PayloadStore {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
}

/** What `ObjectStore.head` says of an object. */
export interface ObjectInfo {
  /** Bytes. */
  readonly size: number;
  /** The object's entity tag, when the store gives one (S3 does). */
  readonly etag?: string;
}

/**
 * Objects in the user's own buckets, by bucket and key: what a Map reads its items
 * from (`item_reader:`) and writes its results to (`result_writer:`). Reads are byte
 * ranges, so no caller ever holds a whole object. S3 on AWS (and fauxqs locally),
 * memory in the simulations.
 */
export interface ObjectStore {
  /** The object's size, or undefined when there is no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /**
   * The bytes `[start, endExclusive)` of the object (S3's `Range: bytes=start-(end-1)`);
   * a range running past the end gives the bytes up to the end. `start < endExclusive`
   * and `start` is inside the object.
   * @throws ObjectNotFoundError when there is no such object
   */
  getRange(bucket: string, key: string, start: number, endExclusive: number): Promise<Uint8Array>;
  /**
   * Writes (or overwrites) an object; the S3 adapter uploads large bodies in parts
   * (S3's object limit is 5 TiB, its key limit 1024 bytes).
   */
  put(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options?: { readonly contentType?: string },
  ): Promise<void>;
}

/** There is no such object (or bucket): S3's `NoSuchKey`/`NoSuchBucket`, by name. */
export class ObjectNotFoundError extends Error {
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, options?: { cause?: unknown }) {
    super(`no object s3://${bucket}/${key}`, options);
    this.name = "ObjectNotFoundError";
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * Activity results by key, for Tasks with a `cache` policy (ElastiCache/Valkey on AWS,
 * Redis or memory locally). A cache is an optimisation: the runtime treats every
 * failure of it as a miss.
 */
export interface ResultCache {
  /** The cached JSON text, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Stores JSON text for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key` (no error when it is absent). */
  delete(key: string): Promise<void>;
  /**
   * A cache in tiers (lib/adapters/tiered-cache.ts) says which tier answered, for the
   * per-tier hit and miss metrics; without it the cache is one tier, counted as L2.
   */
  lookup?(key: string): Promise<CacheLookup>;
  /** The TTL of a `ctx.cache.set` that gives none, in ms (cascade.yaml `cache.ttl`). */
  readonly defaultTtlMs?: number;
}

/** A tier of the cache: L1 in the process, L2 Redis/Valkey. */
export type CacheTier = "L1" | "L2";

/** What a tiered lookup found: the value and the tier that had it, and a miss per tier tried. */
export interface CacheLookup {
  readonly value?: string;
  readonly tier?: CacheTier;
  readonly misses: readonly CacheTier[];
  /** Why L2 failed, when it did (the lookup is then a miss). */
  readonly l2Error?: unknown;
}

/** The clock, injected so tests control time. */
export interface Clock {
  now(): number;
}

/** A message as a queue consumer receives it (Lambda's SQS event source, reduced). */
export interface ReceivedMessage {
  /** Identifies this delivery, for delete and release. */
  readonly receipt: string;
  readonly envelope: OutMessage;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
}

/** What a poller needs from a queue: Lambda's SQS event source, reduced to four calls. */
export interface QueueConsumer {
  /** Up to `max` visible messages, waiting up to `waitMs` for the first. */
  receive(max: number, waitMs: number): Promise<ReceivedMessage[]>;
  /** Deletes delivered messages: their work is done. */
  delete(receipts: readonly string[]): Promise<void>;
  /** Makes a failed delivery visible again after `delayMs` (SQS: ChangeMessageVisibility). */
  release(receipt: string, delayMs: number): Promise<void>;
  /** Keeps deliveries invisible for another `ms` while they are being handled. */
  extend(receipts: readonly string[], ms: number): Promise<void>;
}
