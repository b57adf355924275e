/**
 * Builds the normalised `Definition` of a CDL document once the checks
 * (`semantics.ts`) reported nothing wrong, and the naming rules both share.
 */
import { compileValue, type JsonValue, parsePath, parseTemplate } from "../expr/index.ts";
import { parseDuration } from "./duration.ts";
import { buildItemReader, buildResultWriter } from "./map-items.ts";
import { isRecord } from "./structure.ts";
import type {
  ActivityRef,
  Branch,
  Catcher,
  Definition,
  Flow,
  ResultTarget,
  Retrier,
  State,
  Transition,
} from "./types.ts";

type Raw = Record<string, unknown>;

/** The activity a Task without `resource` runs: its name in snake_case (`VerifyIdentity` → `verify_identity`). */
export function activityNameFor(stateName: string): string {
  return stateName
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
}

/** Parses `urn:cascade:activity:name@pool` (already checked by the schema). */
export function parseResource(urn: string): ActivityRef {
  const [activity = "", pool] = urn.slice("urn:cascade:activity:".length).split("@");
  return pool === undefined ? { activity } : { activity, pool };
}

/** A value or a list of values, as a list (absent: empty). */
export function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Builds the `Definition` of a document that passed every check. */
export function buildDefinition(root: Raw, name: string): Definition {
  const timeoutMs = optionalDuration(root.timeout);
  return {
    name,
    ...(typeof root.description === "string" ? { description: root.description } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(isRecord(root.input_schema)
      ? { inputSchema: root.input_schema as { [key: string]: JsonValue } }
      : {}),
    flow: buildFlow(root.states as Raw[], root.start_at),
  };
}

function buildFlow(list: readonly Raw[], startAt: unknown): Flow {
  const states = new Map<string, State>();
  for (const raw of list) states.set(raw.name as string, buildState(raw, false));
  const first = typeof startAt === "string" ? startAt : (list[0]?.name as string);
  return { startAt: first, states };
}

function optionalDuration(value: unknown): number | undefined {
  return typeof value === "string" ? parseDuration(value) : undefined;
}

function resultTarget(value: unknown, fallback: ResultTarget): ResultTarget {
  if (value === undefined) return fallback;
  if (value === null) return null;
  return parsePath(value as string);
}

function transitionOf(raw: Raw, single: boolean): Transition {
  if (typeof raw.next === "string" && !single) return { next: raw.next };
  return { end: true };
}

function buildRetry(value: unknown): Retrier[] {
  return asList(value).map((entry) => {
    const r = entry as Raw;
    const maxIntervalMs = optionalDuration(r.max_interval);
    return {
      errors: (r.errors as string[] | undefined) ?? ["ALL"],
      maxAttempts: (r.max_attempts as number | undefined) ?? 3,
      intervalMs: optionalDuration(r.interval) ?? 1_000,
      backoffRate: (r.backoff_rate as number | undefined) ?? 2,
      ...(maxIntervalMs === undefined ? {} : { maxIntervalMs }),
      jitter: (r.jitter as "full" | "none" | undefined) ?? "none",
    };
  });
}

function buildCatch(value: unknown): Catcher[] {
  return asList(value).map((entry) => {
    const c = entry as Raw;
    return {
      errors: (c.errors as string[] | undefined) ?? ["ALL"],
      result: resultTarget(c.result, []),
      next: c.next as string,
    };
  });
}

function buildBranch(raw: Raw): Branch {
  if (Array.isArray(raw.states)) {
    return {
      name: raw.name as string,
      flow: buildFlow(raw.states as Raw[], raw.start_at),
      result: resultTarget(raw.result, null),
      single: false,
    };
  }
  const state = buildState(raw, true);
  return {
    name: raw.name as string,
    flow: { startAt: state.name, states: new Map([[state.name, state]]) },
    result: resultTarget(raw.result, null),
    single: true,
  };
}

function buildState(raw: Raw, single: boolean): State {
  const name = raw.name as string;
  const transition = transitionOf(raw, single);
  const type = raw.type as State["type"];
  switch (type) {
    case "Task": {
      const timeoutMs = optionalDuration(raw.timeout);
      const heartbeatMs = optionalDuration(raw.heartbeat);
      const cache = raw.cache as Raw | undefined;
      return {
        type,
        name,
        resource:
          typeof raw.resource === "string"
            ? parseResource(raw.resource)
            : { activity: activityNameFor(name) },
        ...(raw.parameters === undefined
          ? {}
          : { parameters: compileValue(raw.parameters as JsonValue) }),
        result: resultTarget(raw.result, []),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
        retry: buildRetry(raw.retry),
        catch: buildCatch(raw.catch),
        ...(cache
          ? {
              cache: {
                key: parseTemplate(cache.key as string),
                ttlMs: optionalDuration(cache.ttl) ?? 300_000,
              },
            }
          : {}),
        transition,
      };
    }
    case "Choice":
      return {
        type,
        name,
        choices: (raw.choices as Raw[]).map((c) => ({
          condition: parseTemplate(c.condition as string),
          next: c.next as string,
        })),
        ...(typeof raw.default === "string" ? { default: raw.default } : {}),
      };
    case "Parallel": {
      const branches = (raw.branches as Raw[]).map(buildBranch);
      const completion =
        (raw.completion_strategy as "ALL" | "ANY" | "AT_LEAST" | undefined) ?? "ALL";
      const total = branches.length;
      const first =
        completion === "ANY" ? 1 : completion === "AT_LEAST" ? (raw.at_least as number) : undefined;
      const toleratedFailures =
        (raw.tolerated_failures as number | undefined) ?? (first === undefined ? 0 : total - first);
      return {
        type,
        name,
        branches,
        completion,
        required: first ?? total - toleratedFailures,
        toleratedFailures,
        result: resultTarget(raw.result, null),
        catch: buildCatch(raw.catch),
        transition,
      };
    }
    case "Map": {
      const itemReader = buildItemReader(raw);
      const resultWriter = buildResultWriter(raw);
      return {
        type,
        name,
        items: compileValue((raw.items ?? []) as JsonValue),
        ...(itemReader ? { itemReader } : {}),
        ...(resultWriter ? { resultWriter } : {}),
        maxConcurrency: (raw.max_concurrency as number | undefined) ?? 0,
        iterator: buildFlow(raw.iterator as Raw[], undefined),
        toleratedFailures:
          (raw.tolerated_failures as number | undefined) ??
          (raw.tolerated_failure_percentage === undefined ? 0 : Number.MAX_SAFE_INTEGER),
        ...(typeof raw.tolerated_failure_percentage === "number"
          ? { toleratedFailurePercentage: raw.tolerated_failure_percentage }
          : {}),
        result: resultTarget(raw.result, []),
        catch: buildCatch(raw.catch),
        transition,
      };
    }
    case "Wait":
      return {
        type,
        name,
        wait:
          typeof raw.duration === "string"
            ? { durationMs: parseDuration(raw.duration) ?? 0 }
            : { until: parseTemplate(raw.until as string) },
        transition,
      };
    case "WaitForEvent": {
      const timeoutMs = optionalDuration(raw.timeout);
      return {
        type,
        name,
        event: raw.event as string,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        result: resultTarget(raw.result, []),
        catch: buildCatch(raw.catch),
        transition,
      };
    }
    case "Pass":
      return {
        type,
        name,
        ...(raw.value === undefined ? {} : { value: compileValue(raw.value as JsonValue) }),
        result: resultTarget(raw.result, []),
        transition,
      };
    case "Succeed":
      return { type, name };
    case "Fail":
      return {
        type,
        name,
        error: (raw.error as string | undefined) ?? "Cascade.Failed",
        ...(typeof raw.cause === "string" ? { cause: parseTemplate(raw.cause) } : {}),
      };
    default: {
      const unreachable: never = type;
      throw new Error(`unknown state type ${String(unreachable)}`);
    }
  }
}
