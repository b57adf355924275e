/**
 * Running one activity attempt: the user's function with its context, a
 * timeout, a heartbeat watchdog and an abort signal. Outcomes cross the wire as
 * `{ok}` or `{error: {name, message, retryable}}`, never as thrown prototypes.
 */
import type {
  ActivityCache,
  ActivityContext,
  ActivityFunction,
  ActivityLogger,
} from "../core/activity.ts";
import { ERRORS, type WorkflowError } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";

export type { ActivityCache, ActivityContext, ActivityFunction, ActivityLogger };

export type ActivityOutcome = { readonly ok: JsonValue } | { readonly error: WorkflowError };

export interface AttemptOptions {
  readonly idempotencyKey: string;
  readonly stepKey: string;
  readonly attempt: number;
  readonly executionId: string;
  /** The execution's tenant, on every log line of the attempt. */
  readonly tenant?: string;
  readonly workflow: string;
  readonly state: string;
  readonly activity: string;
  readonly timeoutMs?: number;
  readonly heartbeatMs?: number;
  /** The app's two-tier cache (default: one that always misses). */
  readonly cache?: ActivityCache;
  /** Where log lines go (default: standard output). */
  readonly log?: (line: string) => void;
  /** Aborts the attempt from outside (cancellation). */
  readonly signal?: AbortSignal;
}

/** Runs one attempt. Never throws: every failure is an outcome. */
export async function runActivity(
  fn: ActivityFunction | undefined,
  input: JsonValue,
  options: AttemptOptions,
): Promise<ActivityOutcome> {
  if (fn === undefined) {
    return {
      error: {
        name: ERRORS.TASK_FAILED,
        message: `no activity named '${options.activity}' is deployed with this app`,
        retryable: false,
      },
    };
  }
  const controller = new AbortController();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = makeLogger(options, log);
  let settle: (outcome: ActivityOutcome) => void = () => {};
  const timedOut = new Promise<ActivityOutcome>((resolve) => {
    settle = resolve;
  });
  const timers: NodeJS.Timeout[] = [];
  const stop = (error: WorkflowError) => {
    controller.abort(Object.assign(new Error(error.message), { name: error.name }));
    settle({ error });
  };
  if (options.timeoutMs !== undefined) {
    timers.push(
      setTimeout(
        () =>
          stop({
            name: ERRORS.TIMEOUT,
            message: `'${options.state}' ran past its timeout of ${options.timeoutMs}ms`,
          }),
        options.timeoutMs,
      ),
    );
  }
  let watchdog: NodeJS.Timeout | undefined;
  const arm = () => {
    if (options.heartbeatMs === undefined) return;
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(
      () =>
        stop({
          name: ERRORS.HEARTBEAT_TIMEOUT,
          message: `'${options.state}' sent no heartbeat in ${options.heartbeatMs}ms`,
        }),
      options.heartbeatMs,
    );
  };
  arm();
  const onCancel = () =>
    stop({ name: ERRORS.CANCELLED, message: "the execution no longer needs this attempt" });
  options.signal?.addEventListener("abort", onCancel, { once: true });

  const context: ActivityContext = {
    ...(options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs }),
    cache: options.cache ?? NO_CACHE,
    idempotencyKey: options.idempotencyKey,
    stepKey: options.stepKey,
    attempt: options.attempt,
    executionId: options.executionId,
    workflow: options.workflow,
    state: options.state,
    activity: options.activity,
    logger,
    heartbeat: arm,
    signal: controller.signal,
  };
  const work = (async (): Promise<ActivityOutcome> => {
    try {
      const result = await (fn as (i: JsonValue, c: ActivityContext) => unknown)(input, context);
      return { ok: toJson(result) };
    } catch (thrown) {
      return { error: toWorkflowError(thrown) };
    }
  })();
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    if (watchdog) clearTimeout(watchdog);
    options.signal?.removeEventListener("abort", onCancel);
  }
}

/** The cache of an attempt run without one: every `get` misses, `set` and `delete` do nothing. */
export const NO_CACHE: ActivityCache = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => {},
};

/** Error names and messages are cut to this many characters: they travel in items and messages. */
export const MAX_ERROR_TEXT = 8 * 1024;

const cut = (text: string): string =>
  text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;

/** A thrown value as a workflow error: its `name` (default `Error`), message, and `retryable: false` if it says so. */
export function toWorkflowError(thrown: unknown): WorkflowError {
  if (thrown instanceof Error) {
    const { retryable, retryAfterMs } = thrown as { retryable?: unknown; retryAfterMs?: unknown };
    return {
      name: cut(thrown.name && thrown.name !== "" ? thrown.name : "Error"),
      message: cut(thrown.message),
      ...(retryable === false ? { retryable: false } : {}),
      ...(typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0
        ? { retryAfterMs }
        : {}),
    };
  }
  return {
    name: "Error",
    message: cut(typeof thrown === "string" ? thrown : (JSON.stringify(thrown) ?? String(thrown))),
  };
}

function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : (JSON.parse(text) as JsonValue);
  } catch (error) {
    throw Object.assign(
      new Error(`the activity's result is not JSON: ${(error as Error).message}`),
      {
        name: ERRORS.TASK_FAILED,
        retryable: false,
      },
    );
  }
}

function makeLogger(options: AttemptOptions, log: (line: string) => void): ActivityLogger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    log(
      JSON.stringify({
        time: new Date().toISOString(),
        level,
        message,
        activity: options.activity,
        execution: options.executionId,
        ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
        workflow: options.workflow,
        state: options.state,
        attempt: options.attempt,
        ...fields,
      }),
    );
  return {
    debug: (message, fields) => line("debug", message, fields),
    info: (message, fields) => line("info", message, fields),
    warn: (message, fields) => line("warn", message, fields),
    error: (message, fields) => line("error", message, fields),
  };
}
