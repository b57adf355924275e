/**
 * One attempt of an activity as the runtime runs it: the result cache around it, its
 * keys, its metrics, and a watch that aborts it when its thread no longer wants it
 * (a cancel, a lost branch, a timeout that fired elsewhere), on whichever process runs it.
 */
import { createHash } from "node:crypto";
import type { ActivityCache } from "../core/activity.ts";
import type { CachePolicy, WorkflowError } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { CacheLookup, CacheTier, ExecutionHeader, WireMessage } from "../core/ports.ts";
import { NO_CACHE, runActivity } from "./activities.ts";
import { type RuntimeContext, runningKey } from "./context.ts";

/** What running one attempt of an activity needs: the fields `run` and `work` messages share. */
export type AttemptBody = Pick<
  Extract<WireMessage, { kind: "run" }>,
  "activity" | "token" | "state" | "idempotencyKey" | "timeoutMs" | "heartbeatMs" | "cache"
>;

/** Results larger than this are not cached (a cache holds many small results). */
export const MAX_CACHED_RESULT_BYTES = 512 * 1024;
/** `ctx.cache.set`'s TTL when neither the call nor the cache gives one (cascade.yaml's default `cache.ttl`), in ms. */
export const DEFAULT_ACTIVITY_CACHE_TTL_MS = 300_000;
/** Default interval of a running activity's check of its thread, in ms. */
export const DEFAULT_CANCEL_POLL_MS = 2_000;

/**
 * Where a Task's result is cached: per tenant, app and activity, then the user's key
 * (hashed, so any key fits and no key reaches into another's namespace).
 */
export function resultCacheKey(
  header: ExecutionHeader,
  body: { activity: string; cache?: CachePolicy },
): string {
  const digest = createHash("sha256")
    .update(body.cache?.key ?? "")
    .digest("base64url");
  return `cascade:${header.tenant}:${header.app}:${body.activity}:${digest}`;
}

const digest = (...parts: readonly (string | number)[]): string =>
  createHash("sha256").update(parts.join("\u0000")).digest("base64url");

/**
 * An attempt's keys, 45 characters whatever the names (payment providers cap theirs):
 * `idempotencyKey` is one attempt's, `stepKey` stays the same across the retries of one
 * step — the key to hand a payment provider. Both include tenant and app.
 */
export function activityKeys(
  header: ExecutionHeader,
  body: Pick<AttemptBody, "token" | "state">,
): { idempotencyKey: string; stepKey: string } {
  const { tenant, app, executionId } = header;
  const { thread, step, attempt } = body.token;
  return {
    idempotencyKey: `a_${digest(tenant, app, executionId, thread, body.state, step, attempt)}`,
    stepKey: `s_${digest(tenant, app, executionId, thread, body.state, step)}`,
  };
}

/**
 * Runs one attempt. With `watch` (default), the thread's latest step is read every
 * `cancelPollMs` while the activity runs, and the attempt is aborted once the thread no
 * longer waits for it (cancelled, dropped by its join, timed out). `killed` aborts it
 * with its invocation. `base`: the step a run carrying an uncommitted step applies to.
 */
export async function attempt(
  rt: RuntimeContext,
  header: ExecutionHeader,
  body: AttemptBody,
  input: JsonValue,
  watch = true,
  killed?: AbortSignal,
  base?: number,
): Promise<AttemptOutcome> {
  const cacheKey = body.cache && rt.deps.cache ? resultCacheKey(header, body) : undefined;
  if (cacheKey !== undefined) {
    const hit = await cacheGet(rt, header, body.activity, cacheKey);
    if (hit !== undefined) return { ok: hit, cache: "hit" };
  }
  const outcome = await runAttempt(rt, header, body, input, watch, killed, base);
  if (cacheKey !== undefined && body.cache && "ok" in outcome)
    await cacheSet(rt, header, body.activity, cacheKey, outcome.ok, body.cache.ttlMs);
  return cacheKey === undefined ? outcome : { ...outcome, cache: "miss" };
}

/**
 * An attempt's result; `cache` says whether the Task's result cache answered it (`hit`:
 * the activity did not run) or not (`miss`), and is absent when no cache applies.
 */
export type AttemptOutcome = ({ ok: JsonValue } | { error: WorkflowError }) & {
  cache?: "hit" | "miss";
};

/** A cached result; any cache failure is a miss (the cache only saves work). */
async function cacheGet(
  rt: RuntimeContext,
  header: ExecutionHeader,
  activity: string,
  key: string,
): Promise<JsonValue | undefined> {
  const text = await cacheLookup(rt, header, activity, key);
  try {
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  } catch {
    return undefined;
  }
}

/** Looks `key` up tier by tier, counting a hit or a miss per tier; a failure is a miss. */
async function cacheLookup(
  rt: RuntimeContext,
  header: ExecutionHeader,
  activity: string,
  key: string,
): Promise<string | undefined> {
  const cache = rt.deps.cache;
  if (!cache) return undefined;
  let found: CacheLookup;
  try {
    found = cache.lookup
      ? await cache.lookup(key)
      : await cache
          .get(key)
          .then((value) =>
            value === undefined
              ? { misses: ["L2" as const] }
              : { value, tier: "L2" as const, misses: [] },
          );
  } catch (error) {
    found = { misses: ["L2"], l2Error: error };
  }
  if (found.l2Error !== undefined)
    rt.log(
      JSON.stringify({ level: "warn", message: "cache read failed", error: String(found.l2Error) }),
    );
  // One emit per tier: a metric's dimensions are per emit, and L1 and L2 differ in theirs.
  const count = (name: "CacheHits" | "CacheMisses", tier: CacheTier) =>
    rt.metrics.emit(
      header,
      [
        {
          name,
          value: 1,
          unit: "Count",
          dimensions: { workflow: header.workflow, activity, tier },
        },
      ],
      rt.now(),
    );
  for (const tier of found.misses) count("CacheMisses", tier);
  if (found.tier) count("CacheHits", found.tier);
  return found.value;
}

/**
 * `ctx.cache`: the app's cache under `cascade:<tenant>:<app>:kv:<key>`, JSON values, a
 * TTL on every entry, every failure a miss or a no-op (logged), hits and misses per tier.
 */
function activityCache(
  rt: RuntimeContext,
  header: ExecutionHeader,
  activity: string,
): ActivityCache {
  const cache = rt.deps.cache;
  if (!cache) return NO_CACHE;
  const full = (key: string) => `cascade:${header.tenant}:${header.app}:kv:${key}`;
  const warn = (message: string, error: unknown) =>
    rt.log(JSON.stringify({ level: "warn", message, activity, error: String(error) }));
  return {
    get: async <T extends JsonValue>(key: string) => {
      const text = await cacheLookup(rt, header, activity, full(key));
      try {
        return text === undefined ? undefined : (JSON.parse(text) as T);
      } catch {
        return undefined;
      }
    },
    set: async (key, value, ttlMs = cache.defaultTtlMs ?? DEFAULT_ACTIVITY_CACHE_TTL_MS) => {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0)
        throw new RangeError(`ctx.cache.set: ttlMs must be a positive number, not ${ttlMs}`);
      try {
        await cache.set(full(key), JSON.stringify(value), ttlMs);
      } catch (error) {
        warn("cache write failed", error);
      }
    },
    delete: async (key) => {
      try {
        await cache.delete(full(key));
      } catch (error) {
        warn("cache delete failed", error);
      }
    },
  };
}

async function cacheSet(
  rt: RuntimeContext,
  header: ExecutionHeader,
  activity: string,
  key: string,
  value: JsonValue,
  ttlMs: number,
): Promise<void> {
  const text = JSON.stringify(value);
  if (Buffer.byteLength(text) > MAX_CACHED_RESULT_BYTES) return;
  try {
    await rt.deps.cache?.set(key, text, ttlMs);
  } catch (error) {
    rt.log(
      JSON.stringify({
        level: "warn",
        message: "cache write failed",
        activity,
        execution: header.executionId,
        error: String(error),
      }),
    );
  }
}

async function runAttempt(
  rt: RuntimeContext,
  header: ExecutionHeader,
  body: AttemptBody,
  input: JsonValue,
  watch: boolean,
  killed: AbortSignal | undefined,
  base: number | undefined,
): Promise<{ ok: JsonValue } | { error: WorkflowError }> {
  const controller = new AbortController();
  // A killed invocation's activities stop with it, as they would with a killed Lambda.
  const onKill = () => controller.abort();
  killed?.addEventListener("abort", onKill, { once: true });
  const key = runningKey(header, body.token.thread);
  rt.running.set(key, controller);
  const stopWatch = watch ? watchThread(rt, header, body.token, controller, base) : () => {};
  const started = performance.now();
  let failed = true;
  try {
    const keys = activityKeys(header, body);
    const outcome = await runActivity(rt.activities.get(body.activity), input, {
      ...keys,
      attempt: body.token.attempt,
      executionId: header.executionId,
      tenant: header.tenant,
      workflow: header.workflow,
      state: body.state,
      activity: body.activity,
      ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }),
      ...(body.heartbeatMs === undefined ? {} : { heartbeatMs: body.heartbeatMs }),
      log: rt.log,
      cache: activityCache(rt, header, body.activity),
      signal: controller.signal,
    });
    failed = !("ok" in outcome);
    return outcome;
  } finally {
    killed?.removeEventListener("abort", onKill);
    stopWatch();
    if (rt.running.get(key) === controller) rt.running.delete(key);
    const dimensions = { workflow: header.workflow, activity: body.activity };
    rt.metrics.emit(
      header,
      [
        {
          name: "ActivityDuration",
          value: Math.round(performance.now() - started),
          unit: "Milliseconds",
          dimensions,
        },
        { name: "ActivityErrors", value: failed ? 1 : 0, unit: "Count", dimensions },
      ],
      rt.now(),
    );
  }
}

/**
 * Polls the thread while its activity runs, wherever it runs (inline or a dedicated
 * worker); aborts the attempt once the thread no longer waits for this very attempt.
 */
function watchThread(
  rt: RuntimeContext,
  header: ExecutionHeader,
  token: AttemptBody["token"],
  controller: AbortController,
  base: number | undefined,
): () => void {
  const every = rt.options.cancelPollMs ?? DEFAULT_CANCEL_POLL_MS;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async () => {
    try {
      const latest = await rt.store.getThread(header, token.thread);
      const t = latest?.thread;
      // A run that carries its thread's uncommitted step is wanted while nothing has
      // committed on top of the step it carries it on (`base`).
      const wanted =
        t === undefined ||
        (base !== undefined && latest?.version === base) ||
        (t.status === "running" &&
          t.waiting?.kind === "activity" &&
          t.step === token.step &&
          t.attempt === token.attempt);
      if (!wanted) {
        controller.abort();
        return;
      }
    } catch {
      // A failed check is tried again at the next poll.
    }
    if (!stopped) {
      timer = setTimeout(poll, every);
      timer.unref?.();
    }
  };
  timer = setTimeout(poll, every);
  timer.unref?.();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
