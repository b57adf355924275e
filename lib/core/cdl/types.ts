/**
 * A validated, normalised workflow: what the engine interprets. Defaults are
 * filled in, durations are milliseconds, templates are compiled, and every
 * transition is known to name a state of its own flow.
 */
import type { CompiledValue, JsonValue, PathSegment, Template } from "../expr/index.ts";
import type { ItemFormat, StateType } from "./schema.ts";

/**
 * Where a value lands in the data: `[]` replaces the whole data (the default
 * for Tasks), a path sets one place, `null` discards the value.
 */
export type ResultTarget = readonly PathSegment[] | null;

/** What follows a state in its flow. */
export type Transition = { readonly next: string } | { readonly end: true };

/** An activity reference: `urn:cascade:activity:<activity>[@<pool>]`. */
export interface ActivityRef {
  readonly activity: string;
  /**
   * Set when the activity runs in a worker pool: that pool's own queue and `worker`
   * function (memory, timeout, concurrency), in the app's AWS region like the rest.
   */
  readonly pool?: string;
}

/** Retry policy of one retrier; delays in milliseconds. */
export interface Retrier {
  /** Error names this retrier matches; `ALL` matches every error. */
  readonly errors: readonly string[];
  /** Total attempts, the first included; at least 1. */
  readonly maxAttempts: number;
  readonly intervalMs: number;
  readonly backoffRate: number;
  readonly maxIntervalMs?: number;
  readonly jitter: "full" | "none";
}

export interface Catcher {
  readonly errors: readonly string[];
  /** Where the error `{name, message}` lands. */
  readonly result: ResultTarget;
  readonly next: string;
}

interface StateBase<T extends StateType> {
  readonly type: T;
  readonly name: string;
}

export interface TaskState extends StateBase<"Task"> {
  readonly resource: ActivityRef;
  /** The activity's input; `undefined` passes the whole data. */
  readonly parameters?: CompiledValue;
  readonly result: ResultTarget;
  readonly timeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly retry: readonly Retrier[];
  readonly catch: readonly Catcher[];
  readonly cache?: { readonly key: Template; readonly ttlMs: number };
  readonly transition: Transition;
}

export interface ChoiceState extends StateBase<"Choice"> {
  readonly choices: readonly { readonly condition: Template; readonly next: string }[];
  readonly default?: string;
}

/** A Parallel branch: a flow of its own, and where its output lands in the parent. */
export interface Branch {
  readonly name: string;
  readonly flow: Flow;
  /**
   * For the seed form (a branch that is one state), the state's own result
   * lands at the state's `result` path in the parent; for a list of states, the
   * branch's final data lands at the branch's `result` path; `null`: nowhere.
   */
  readonly result: ResultTarget;
  /** True for the seed form: the branch's one state's result (not its whole data) is what lands. */
  readonly single: boolean;
}

export type CompletionStrategy = "ALL" | "ANY" | "AT_LEAST";

export interface ParallelState extends StateBase<"Parallel"> {
  readonly branches: readonly Branch[];
  readonly completion: CompletionStrategy;
  /**
   * How many branches must succeed: for ALL, all but the tolerated failures (and
   * the join waits for every branch); for ANY 1 and for AT_LEAST `at_least` (the
   * join completes as soon as that many have succeeded).
   */
  readonly required: number;
  /**
   * More failures than this fail the Parallel at once. Default: 0 for ALL; for
   * ANY and AT_LEAST, as many as still leave `required` branches to succeed.
   */
  readonly toleratedFailures: number;
  /** Where the array of branch outputs lands; `null` (the default): nowhere. */
  readonly result: ResultTarget;
  readonly catch: readonly Catcher[];
  readonly transition: Transition;
}

/**
 * Where a Map reads its items (`item_reader:`): an S3 object read a page at a time.
 * The runtime evaluates `bucket` and `key` against the Map's data when it starts.
 */
export interface ItemReaderSpec {
  readonly bucket: Template;
  readonly key: Template;
  readonly format: ItemFormat;
  /**
   * For `csv`: `true` (the default for csv) when the first row names the columns, or
   * the names themselves (then every row is data). Absent for json and jsonl.
   */
  readonly csvHeader?: true | readonly string[];
  /** Read at most this many items from the start of the object; absent: all. */
  readonly maxItems?: number;
}

/** Where a Map writes its results (`result_writer:`): parts in item order and a manifest. */
export interface ResultWriterSpec {
  readonly bucket: Template;
  readonly keyPrefix: Template;
}

export interface MapState extends StateBase<"Map"> {
  /**
   * A template (usually) or a literal list. With `itemReader` the Map has no `items`
   * (a Map with both is a validation error) and this is the empty list: the items come
   * from the object.
   */
  readonly items: CompiledValue;
  /** Set when the items come from an S3 object instead of `items`. */
  readonly itemReader?: ItemReaderSpec;
  /** Set when the results go to S3 (and a manifest lands at `result`) instead of the data. */
  readonly resultWriter?: ResultWriterSpec;
  /** 0 (`max_concurrency` omitted): no limit. */
  readonly maxConcurrency: number;
  readonly iterator: Flow;
  /** Iterations that may fail before the Map fails. */
  readonly toleratedFailures: number;
  /**
   * Or this share of the items, in percent (0–100), rounded down once the items are
   * known; with both, the stricter holds. Absent: only `toleratedFailures` counts.
   */
  readonly toleratedFailurePercentage?: number;
  readonly result: ResultTarget;
  readonly catch: readonly Catcher[];
  readonly transition: Transition;
}

export interface WaitState extends StateBase<"Wait"> {
  readonly wait: { readonly durationMs: number } | { readonly until: Template };
  readonly transition: Transition;
}

export interface WaitForEventState extends StateBase<"WaitForEvent"> {
  readonly event: string;
  readonly timeoutMs?: number;
  readonly result: ResultTarget;
  readonly catch: readonly Catcher[];
  readonly transition: Transition;
}

export interface PassState extends StateBase<"Pass"> {
  /** `undefined`: the data passes unchanged. */
  readonly value?: CompiledValue;
  readonly result: ResultTarget;
  readonly transition: Transition;
}

export type SucceedState = StateBase<"Succeed">;

export interface FailState extends StateBase<"Fail"> {
  readonly error: string;
  readonly cause?: Template;
}

export type State =
  | TaskState
  | ChoiceState
  | ParallelState
  | MapState
  | WaitState
  | WaitForEventState
  | PassState
  | SucceedState
  | FailState;

/** A list of states with its entry: the workflow itself, a branch, or a Map's iterator. */
export interface Flow {
  readonly startAt: string;
  /** In the order written. */
  readonly states: ReadonlyMap<string, State>;
}

/** A whole validated workflow. */
export interface Definition {
  readonly name: string;
  readonly description?: string;
  readonly timeoutMs?: number;
  readonly inputSchema?: { readonly [key: string]: JsonValue };
  readonly flow: Flow;
}
