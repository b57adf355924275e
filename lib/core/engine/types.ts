/**
 * The engine's vocabulary: the state of one thread of an execution, the state
 * of one join, the events that move them, and the commands the runtime carries
 * out. Everything here is plain JSON-compatible data: it is stored in DynamoDB
 * and carried in SQS messages as it is.
 *
 * An execution is a tree of threads. The root thread runs the workflow's flow;
 * a Parallel starts one thread per branch and a Map one per item, each with its
 * own record and version, and a join record per activation gathers them. A
 * thread is addressed by its id; an activation inside a thread by its token.
 */

import type { JsonValue } from "../expr/index.ts";
import type { ItemSource, ResultLocation } from "./items.ts";
import type { Resume } from "./resume.ts";

/** An error as it crosses the wire: matched by `name`, never by prototype. */
export interface WorkflowError {
  readonly name: string;
  readonly message: string;
  /** False when an activity said not to retry it. Default true. */
  readonly retryable?: boolean;
  /**
   * When a matching `retry` rule retries this error, wait this long (ms) instead of the
   * rule's backoff (`retryAfter(ms)` in an activity). At most one year.
   */
  readonly retryAfterMs?: number;
}

/** Stable error names the engine raises. */
export const ERRORS = {
  TIMEOUT: "Cascade.Timeout",
  HEARTBEAT_TIMEOUT: "Cascade.HeartbeatTimeout",
  TASK_FAILED: "Cascade.TaskFailed",
  CANCELLED: "Cascade.Cancelled",
  BRANCH_FAILED: "Cascade.BranchFailed",
  EXPRESSION_ERROR: "Cascade.ExpressionError",
  PAYLOAD_TOO_LARGE: "Cascade.PayloadTooLarge",
  NO_CHOICE_MATCHED: "Cascade.NoChoiceMatched",
  FAILED: "Cascade.Failed",
  LOOP_LIMIT: "Cascade.LoopLimit",
  /** A Map's `item_reader` object is missing or unreadable (names the object, and the line). */
  ITEM_READER_FAILED: "Cascade.ItemReaderFailed",
  /** A Map's `result_writer` location is unusable or a write to it failed for good. */
  RESULT_WRITER_FAILED: "Cascade.ResultWriterFailed",
} as const;

/** What every thread of an execution can see: the `workflow` and `execution` roots of expressions. */
export interface ExecutionContext {
  readonly executionId: string;
  readonly workflowName: string;
  readonly input: JsonValue;
  /** Epoch milliseconds. */
  readonly startTime: number;
}

/**
 * Where a thread's flow sits in the definition: the chain of Parallel/Map
 * states (and branch indexes) from the workflow's flow down to it.
 */
export type FlowRef = readonly { readonly state: string; readonly branch?: number }[];

export type ThreadStatus = "running" | "succeeded" | "failed" | "cancelled";

/** What a running thread is waiting for. */
export type Waiting =
  | { readonly kind: "activity"; readonly heartbeatSeq: number }
  | { readonly kind: "wait" }
  | { readonly kind: "event"; readonly event: string }
  | { readonly kind: "join"; readonly joinId: string }
  /** A Map's `item_reader`: the runtime reads the object a page at a time, then `ItemsRead`. */
  | { readonly kind: "items" };

/** One thread: the workflow itself, a Parallel branch or a Map iteration. */
export interface ThreadState {
  readonly id: string;
  readonly flow: FlowRef;
  /** For a branch or an iteration: its join and its index there. */
  readonly parent?: { readonly joinId: string; readonly index: number };
  /** For a Map iteration: the `map` root of expressions. */
  readonly map?: { readonly index: number; readonly item: JsonValue };
  readonly status: ThreadStatus;
  /** The state the thread is in (while running) or ended in. */
  readonly current: string;
  /** Counts state entries; with the thread id it names an activation precisely. */
  readonly step: number;
  /** The current Task's attempt, from 1. */
  readonly attempt: number;
  readonly waiting?: Waiting;
  /** Epoch ms the current state was entered (for durations in history and metrics). */
  readonly enteredAt: number;
  /** The data, `$`. */
  readonly data: JsonValue;
  /** The state of the jitter generator, so replays draw the same delays. */
  readonly rng: number;
  readonly error?: WorkflowError;
  /** Transitions applied so far (for metrics and limits). */
  readonly transitions: number;
  /** History events recorded so far; each event's `seq` is its position, unique in the thread. */
  readonly recorded: number;
}

/** A Parallel or Map activation's join: which branches started and how they ended. */
export interface JoinState {
  readonly id: string;
  readonly kind: "parallel" | "map";
  /** The thread and token that wait for this join, and the parent thread's flow. */
  readonly parentThread: string;
  readonly parentFlow: FlowRef;
  /** The parent thread's Map iteration, inherited by Parallel branches inside it. */
  readonly parentMap?: { readonly index: number; readonly item: JsonValue };
  readonly parentStep: number;
  readonly state: string;
  readonly total: number;
  /**
   * True for Parallel ALL and Map: the join waits for every branch. False for
   * ANY and AT_LEAST: it completes once `required` branches have succeeded.
   */
  readonly waitForAll: boolean;
  /** How many branches must succeed. */
  readonly required: number;
  /** More failures than this fail the join at once. */
  readonly toleratedFailures: number;
  /** 0: no limit. */
  readonly maxConcurrency: number;
  /** Branch indexes started so far are 0..started-1. */
  readonly started: number;
  readonly succeeded: readonly number[];
  readonly failed: readonly number[];
  readonly status: "open" | "succeeded" | "failed" | "cancelled";
  /** Set when the join failed: the first failure beyond the tolerated ones. */
  readonly error?: WorkflowError;
  /** A redrive's fan-out: how its branches re-run the original's (see resume.ts). */
  readonly resume?: Resume;
}

/** A token: one activation of one state in one thread. Stale tokens are ignored. */
export interface Token {
  readonly thread: string;
  readonly step: number;
  readonly attempt?: number;
}

export type TimerPurpose = "wait" | "timeout" | "heartbeat" | "event-timeout" | "workflow-timeout";

/** Events delivered to a thread. */
export type ThreadEvent =
  | {
      readonly type: "ActivitySucceeded";
      readonly token: Token;
      readonly output: JsonValue;
      /** Whether the Task's result cache answered (`hit`) or the activity ran (`miss`); absent without a cache. */
      readonly cache?: "hit" | "miss";
    }
  | {
      readonly type: "ActivityFailed";
      readonly token: Token;
      readonly error: WorkflowError;
      readonly cache?: "miss";
    }
  | { readonly type: "ActivityHeartbeat"; readonly token: Token }
  | {
      readonly type: "TimerFired";
      readonly token: Token;
      readonly purpose: TimerPurpose;
      /** For heartbeat timers: the heartbeat sequence the timer was set for. */
      readonly seq?: number;
    }
  | {
      readonly type: "EventReceived";
      readonly event: string;
      readonly payload: JsonValue;
      /** The activation it is delivered to; a copy delivered again after the thread moved on is ignored. */
      readonly token?: Token;
    }
  | { readonly type: "JoinCompleted"; readonly token: Token; readonly outcome: JoinOutcome }
  /** A Map's items, read from its `item_reader` object into pages (or why they could not be). */
  | {
      readonly type: "ItemsRead";
      readonly token: Token;
      readonly pages?: ItemPages;
      readonly error?: WorkflowError;
    }
  | { readonly type: "CancelRequested"; readonly reason: string }
  /** The runtime gave up on this thread (a poison message): it fails with `error`, which no catcher sees. */
  | { readonly type: "Aborted"; readonly error: WorkflowError };

/**
 * A Map's items kept in the payload store a page at a time (`<prefix><page>.json`, a
 * JSON array): page `p` holds items `starts[p]` onwards.
 */
export interface ItemPages {
  readonly prefix: string;
  readonly starts: readonly number[];
  readonly total: number;
}

/** Parallel: every branch's input (the parent's data). Map: the items, by index, or their pages. */
export type BranchInputs =
  | { readonly kind: "shared"; readonly value: JsonValue }
  | { readonly kind: "items"; readonly items: readonly JsonValue[] }
  | { readonly kind: "pages"; readonly pages: ItemPages };

/** One branch's end, as the parent sees it. */
export interface BranchResult {
  readonly index: number;
  readonly status: "succeeded" | "failed" | "cancelled" | "pending";
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
}

/** How a join ended; the runtime gathers branch outputs from the branch threads. */
export type JoinOutcome =
  | {
      readonly status: "succeeded";
      readonly branches: readonly BranchResult[];
      /** With a `result_writer`: the manifest that lands at `result`, the branches left empty. */
      readonly written?: JsonValue;
    }
  | { readonly status: "failed"; readonly error: WorkflowError };

/** A branch thread's end, delivered to its join. */
export interface BranchFinished {
  readonly joinId: string;
  readonly index: number;
  readonly status: "succeeded" | "failed" | "cancelled";
  readonly error?: WorkflowError;
}

/** A history event, as a user reads it. */
export interface HistoryEvent {
  readonly type:
    | "ExecutionStarted"
    | "StateEntered"
    | "StateExited"
    | "ActivityScheduled"
    | "ActivitySucceeded"
    | "ActivityFailed"
    | "RetryScheduled"
    | "TimerScheduled"
    | "TimerFired"
    | "EventAwaited"
    | "EventReceived"
    | "BranchesStarted"
    | "BranchFinished"
    | "BranchesJoined"
    | "ErrorCaught"
    | "ExecutionSucceeded"
    | "ExecutionFailed"
    | "ExecutionCancelled";
  readonly thread: string;
  /** Position in the thread's history, from 0: with the thread it identifies the event. */
  readonly seq: number;
  readonly state?: string;
  readonly step: number;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly attempt?: number;
  readonly input?: JsonValue;
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
  readonly detail?: { readonly [key: string]: JsonValue };
}

/** A metric for the runtime to emit (CloudWatch EMF on AWS, the local store offline). */
/**
 * CloudWatch metric names (namespace `Cascade`). The engine emits the workflow ones; the
 * runtime, which has a clock, times activities. The CDK dashboard and alarms read these.
 */
export const METRIC_NAMES = [
  "WorkflowStarted",
  "WorkflowDuration",
  "WorkflowOutcome",
  "ActivityDuration",
  "ActivityErrors",
  "CacheHits",
  "CacheMisses",
  "TransitionLatency",
  "BatchRecords",
  "FailedRecords",
  "ApiLatency",
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface Metric {
  readonly name: MetricName;
  readonly value: number;
  readonly unit: "Milliseconds" | "Count";
  readonly dimensions: { readonly [key: string]: string };
}

/** The cache policy of a Task, with the key already evaluated. */
export interface CachePolicy {
  readonly key: string;
  readonly ttlMs: number;
}

/** What the runtime must do after a step, in order. */
export type Command =
  | {
      readonly type: "RunActivity";
      readonly token: Required<Token>;
      readonly state: string;
      readonly activity: string;
      /** The worker pool (`@pool`) whose queue runs it; absent: inline in the engine. */
      readonly pool?: string;
      readonly input: JsonValue;
      /** Not before this epoch ms (retry backoff); absent: now. */
      readonly notBefore?: number;
      readonly timeoutMs?: number;
      readonly heartbeatMs?: number;
      readonly cache?: CachePolicy;
      /** Stable across redeliveries of this attempt: `<execution>/<thread>/<state>/<step>/<attempt>`. */
      readonly idempotencyKey: string;
    }
  | {
      readonly type: "ScheduleTimer";
      readonly token: Token;
      readonly purpose: TimerPurpose;
      /** Epoch ms. */
      readonly at: number;
      readonly seq?: number;
    }
  | { readonly type: "AwaitEvent"; readonly token: Token; readonly event: string }
  | {
      readonly type: "StartJoin";
      readonly join: JoinState;
      /** Parallel: every branch's input (the parent's data). Map: the items, by index. */
      readonly inputs: BranchInputs;
      /** A Map's `result_writer`: its results go there, page by page, and a manifest. */
      readonly writer?: ResultLocation;
    }
  /** Read a Map's `item_reader` object into pages; answered by `ItemsRead`. */
  | { readonly type: "ReadItems"; readonly token: Token; readonly source: ItemSource }
  | { readonly type: "StartBranches"; readonly joinId: string; readonly indexes: readonly number[] }
  | {
      readonly type: "CancelBranches";
      readonly joinId: string;
      readonly indexes: readonly number[];
    }
  /** Cancel whatever is still running under a join (the runtime applies `cancelJoin` to its record). */
  | { readonly type: "CancelJoin"; readonly joinId: string }
  | {
      readonly type: "CompleteJoin";
      readonly joinId: string;
      readonly parent: Token;
      readonly outcome: JoinOutcome;
    }
  | { readonly type: "FinishBranch"; readonly branch: BranchFinished }
  | { readonly type: "CancelActivity"; readonly token: Token }
  | { readonly type: "CompleteExecution"; readonly output: JsonValue }
  | { readonly type: "FailExecution"; readonly error: WorkflowError }
  | { readonly type: "CancelExecution"; readonly reason: string }
  | { readonly type: "RecordHistory"; readonly events: readonly HistoryEvent[] }
  | { readonly type: "EmitMetric"; readonly metric: Metric };

/** The result of one engine step. `changed` is false when the event was stale or a duplicate. */
export interface ThreadStep {
  readonly thread: ThreadState;
  readonly commands: readonly Command[];
  readonly changed: boolean;
}

export interface JoinStep {
  readonly join: JoinState;
  readonly commands: readonly Command[];
  readonly changed: boolean;
}
