/**
 * The activity contract: what an activity receives, what it may throw, and which exports
 * of an activity module are activities. This is the module users import (through the
 * package's main export); it holds no I/O.
 *
 * Which exports are activities: in a module that exports at least one function made with
 * {@link defineActivity}, exactly those; in a module that exports none, every exported
 * function (the rule of earlier versions, kept so plain `export async function` modules
 * go on working). A helper such as `getPool()` in a module of activities made with
 * `defineActivity` — or in a module of its own — is never published as an activity.
 */
import type { JsonValue } from "./expr/index.ts";

/** One line per log call, as JSON, carrying the execution, state and attempt. */
export interface ActivityLogger {
  /** Kept only when `cascade.yaml` sets `logging.level: debug` (on Lambda; `cascade dev` prints it). */
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The app's cache, as an activity sees it: an in-process tier (L1: bounded, with a short
 * TTL, so a copy another process made stale lives at most that long) in front of Redis or
 * Valkey (L2: ElastiCache Serverless on AWS, `cascade dev`'s Redis locally). Keys are the
 * activity author's, kept apart per tenant and app. Every entry expires. A cache that
 * fails — Redis down, a timeout, a value that is not JSON — is a miss on `get` and a
 * no-op on `set` and `delete`: it never fails the step. Hits and misses are counted per
 * tier (`CacheHits` / `CacheMisses` with a `tier` dimension).
 */
export interface ActivityCache {
  /** The value under `key`, or undefined on a miss (including any failure of the cache). */
  get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined>;
  /**
   * Stores `value` (JSON) under `key` for `ttlMs` milliseconds; without it, `cache.ttl`
   * of cascade.yaml (default 5 minutes). Nothing is stored without a TTL.
   * @throws RangeError when `ttlMs` is not a positive finite number (a programming error).
   */
  set(key: string, value: JsonValue, ttlMs?: number): Promise<void>;
  /** Removes `key` from both tiers: call it when you write what the entry was read from. */
  delete(key: string): Promise<void>;
}

/** What an activity receives besides its input. */
export interface ActivityContext {
  /**
   * One attempt's key, stable across redeliveries of that attempt; includes the tenant
   * and the app (45 characters). Use it to fence an attempt's own writes.
   */
  readonly idempotencyKey: string;
  /**
   * The step's key: the same across every retry of this Task in this step, different in
   * each tenant, app, execution and step (45 characters). Hand this one to a payment
   * provider, so a retried charge is not charged twice.
   */
  readonly stepKey: string;
  /** From 1. */
  readonly attempt: number;
  readonly executionId: string;
  readonly workflow: string;
  readonly state: string;
  readonly activity: string;
  /**
   * When this attempt times out, in epoch milliseconds (from the Task's `timeout`);
   * undefined when the Task sets none. Check it before starting work that cannot finish.
   */
  readonly deadline?: number;
  readonly logger: ActivityLogger;
  /** The app's two-tier cache (see {@link ActivityCache}). */
  readonly cache: ActivityCache;
  /** Tells Cascade the activity is alive; required at least every `heartbeat` when the Task sets one. */
  heartbeat(): void;
  /** Aborted on timeout, heartbeat timeout or cancellation. */
  readonly signal: AbortSignal;
}

/**
 * An activity: `(input, ctx) => result`. What it returns (JSON) is the result; what it
 * throws fails the attempt with the error's `name` (default `Error`) and message, and is
 * not retried when it carries `retryable: false` (see {@link nonRetryable}).
 */
export type ActivityFunction<I = never, O = unknown> = (
  input: I,
  context: ActivityContext,
) => O | Promise<O>;

/** The mark `defineActivity` puts on a function (a global symbol: it survives two copies of the package). */
export const ACTIVITY_MARK: unique symbol = Symbol.for("cascade.activity") as never;

/** A function made with {@link defineActivity}. */
export type DefinedActivity<I, O> = ActivityFunction<I, O> & { readonly [ACTIVITY_MARK]: true };

/**
 * Declares an activity with typed input and output. The export's name is the activity's
 * name in `urn:cascade:activity:<name>`:
 *
 * ```ts
 * export const charge = defineActivity<{ amount: number }, { id: string }>(
 *   async (input, ctx) => payments.charge(input.amount, { idempotencyKey: ctx.stepKey }),
 * );
 * ```
 */
export function defineActivity<I = JsonValue, O = unknown>(
  fn: (input: I, context: ActivityContext) => O | Promise<O>,
): DefinedActivity<I, O> {
  return Object.defineProperty(fn, ACTIVITY_MARK, { value: true, enumerable: false }) as never;
}

/** True for a function made with {@link defineActivity}. */
export function isDefinedActivity(value: unknown): boolean {
  return (
    typeof value === "function" && (value as { [ACTIVITY_MARK]?: unknown })[ACTIVITY_MARK] === true
  );
}

/**
 * The activities among a module's exports, by name, following the rule at the top of
 * this module. `default` is never an activity.
 */
export function activitiesOf(exports: Record<string, unknown>): Map<string, ActivityFunction> {
  const functions = Object.entries(exports).filter(
    (entry): entry is [string, ActivityFunction] =>
      entry[0] !== "default" && typeof entry[1] === "function",
  );
  const defined = functions.filter(([, fn]) => isDefinedActivity(fn));
  return new Map(defined.length > 0 ? defined : functions);
}

/** An error that no `retry` rule retries: it goes straight to `catch`, or fails the Task. */
export class NonRetryableError extends Error {
  readonly retryable = false;
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

/**
 * `throw nonRetryable("Payments.CardDeclined", "the card was declined")`: fails the attempt
 * with that error name (what `catch` and `retry` match on), never retried.
 */
export function nonRetryable(name: string, message: string, options?: ErrorOptions): Error {
  return new NonRetryableError(name, message, options);
}

/** An error whose retry, when a `retry` rule matches it, waits `retryAfterMs` instead of the rule's backoff. */
export class RetryAfterError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message: string, name = "Cascade.RetryAfter") {
    super(message);
    this.name = name;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * `throw retryAfter(30_000)`: fails this attempt and, when the Task's `retry` matches the
 * error (`name`, default `Cascade.RetryAfter`, or `ALL`), retries it after
 * `ms` milliseconds rather than after the rule's backoff — for a rate limit's
 * `Retry-After`. The rule's `max_attempts` still counts.
 * @throws RangeError when `ms` is negative or not finite.
 */
export function retryAfter(
  ms: number,
  message = `retry after ${ms}ms`,
  name?: string,
): RetryAfterError {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`retryAfter(${ms}): ms must be ≥ 0`);
  return new RetryAfterError(ms, message, name);
}
