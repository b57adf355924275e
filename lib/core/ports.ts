/**
 * The ports: what the runtime needs from the outside world. Adapters implement
 * them over DynamoDB, SQS and S3 (`lib/adapters/aws`) or in memory for seeded
 * simulations (`lib/adapters/memory`); one contract suite runs against both.
 */
import type {
  CachePolicy,
  FlowRef,
  HistoryEvent,
  JoinOutcome,
  JoinState,
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
}

/** A message the runtime sends, with its logical id (stable across re-sends). */
export interface OutMessage {
  /** `<causing message id>/<n>`: duplicates of one logical message share it. */
  readonly mid: string;
  /** `transitions`, or `worker:<region>` for a dedicated activity queue. */
  readonly queue: string;
  /** Deliver no earlier than this epoch ms (timers, retry backoff). */
  readonly notBefore?: number;
  /** When it was sent (epoch ms): its receiver reports the transition latency. */
  readonly sentAt?: number;
  readonly body: WireMessage;
}

/** A thread as stored: its state (data possibly offloaded), version, and the messages its last transition caused. */
export interface ThreadRecord {
  readonly header: ExecutionHeader;
  readonly thread: StoredThread;
  /** 1 after the first write; a write must name the version it replaces (0: none yet). */
  readonly version: number;
  /** The logical id of the message whose transition produced this version. */
  readonly causedBy: string;
  /** The buffered event this transition consumed, deleted after the commit (again on a redelivery). */
  readonly consumed?: { readonly event: string; readonly key: string };
  /**
   * What that transition sent; re-sent when the same message is redelivered. Its
   * `run` messages are stored without the thread they carry (it is this record's).
   */
  readonly outbox: readonly OutMessage[];
}

/** A thread state whose `data` may live in the payload store. */
export type StoredThread = Omit<ThreadState, "data"> & { readonly data: Stored };

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
}

/** A thread's committed state and version, carried so the next step needs no read. */
export interface ParentSnapshot {
  readonly thread: StoredThread;
  readonly version: number;
}

/** The execution as users see it: its root thread's record. */
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
    }
  | {
      readonly kind: "finished";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly index: number;
      readonly status: "succeeded" | "failed" | "cancelled";
      readonly error?: WorkflowError;
      /** A small output of a Parallel branch, kept in the join so the branch needs no record of its own. */
      readonly output?: JsonValue;
    }
  | { readonly kind: "cancel-join"; readonly header: ExecutionHeader; readonly joinId: string }
  | {
      /** The branches a fan-out started, as kept in the thread's stored outbox; rebuilt from the join. */
      readonly kind: "start-branches";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly indexes: readonly number[];
      /** The message that fanned out: branch messages are `<cause>/branch/<index>`. */
      readonly cause: string;
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
      readonly cache?: CachePolicy;
    };

/** A thread event whose payload (activity output, event payload) may be offloaded. */
export type StoredEvent =
  | {
      readonly type: "ActivitySucceeded";
      readonly token: { thread: string; step: number; attempt: number };
      readonly output: Stored;
    }
  | {
      readonly type: "ActivityFailed";
      readonly token: { thread: string; step: number; attempt: number };
      readonly error: WorkflowError;
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

/** Execution state: one conditional write per transition, no transactions. */
/** One execution's events to append, and when their items expire (epoch seconds, the TTL attribute). */
export interface HistoryAppend {
  readonly header: ExecutionHeader;
  readonly events: readonly HistoryEvent[];
  readonly expiresAt?: number;
}

export interface ExecutionStore {
  /** Creates the execution (its root thread item) unless one with that id exists; returns the existing one then. */
  createExecution(
    record: ThreadRecord,
    expiresAt?: number,
  ): Promise<{ created: true } | { created: false; existing: ThreadRecord }>;
  getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined>;
  getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined>;
  /** Writes a thread if its stored version is `expected` (0: it must not exist). False on a conflict. */
  putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean>;
  /** The branch threads of a join (ids `<joinId>[<index>]`). */
  joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]>;
  /** Every branch thread of an execution (not the root). */
  branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]>;
  getJoin(header: ExecutionHeader, joinId: string): Promise<JoinRecord | undefined>;
  putJoin(record: JoinRecord, expected: number, expiresAt?: number): Promise<boolean>;
  appendHistory(
    header: ExecutionHeader,
    events: readonly HistoryEvent[],
    expiresAt?: number,
  ): Promise<void>;
  /**
   * Appends the history of several executions at once: on DynamoDB, one
   * BatchWriteItem per 25 events whatever execution they belong to (an SQS batch
   * of ten executions' steps costs one request, not ten). Idempotent per event.
   */
  appendHistories(entries: readonly HistoryAppend[]): Promise<void>;
  readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>>;
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
   * Marks a buffered event consumed once a thread's commit has taken it (it leaves a
   * marker, so its id stays used); idempotent.
   */
  deleteBufferedEvent(header: ExecutionHeader, event: string, key: string): Promise<void>;
  /** Notes why a message keeps failing, for the dead-letter handler to report. */
  noteFailure(header: ExecutionHeader, reason: string, expiresAt?: number): Promise<void>;
  lastFailure(header: ExecutionHeader): Promise<string | undefined>;
}

/** Sends messages: batched, delayed when `notBefore` is in the future (chained past SQS's 15 minutes). */
export interface MessageQueue {
  send(messages: readonly OutMessage[], now: number): Promise<void>;
}

/** Large JSON values, by key. */
export interface PayloadStore {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
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
}

/** The clock, injected so tests control time. */
export interface Clock {
  now(): number;
}
