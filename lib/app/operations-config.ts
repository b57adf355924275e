/**
 * The operations blocks of `cascade.yaml` the seed documents print — Kubernetes-style
 * `resources.requests/limits`, HPA-style `autoscaling`, `alerts`, and the `messaging`,
 * `cache`, `database`, `platform` and `temporal` keys of other platforms. Each key either
 * takes its meaning on Lambda, SQS, DynamoDB and ElastiCache, or is accepted with a
 * warning saying what it means here and what to write instead (docs/config.md has the
 * table). None is an error, none is silently ignored.
 */
import type { JsonSchema } from "../core/cdl/index.ts";
import { parseDuration } from "../core/cdl/index.ts";
import { LAMBDA_MAX_MEMORY_MB, LAMBDA_MIN_MEMORY_MB } from "../manifest/index.ts";

/** The code of an accepted key that has no effect on AWS (a warning). */
export const NOT_ON_LAMBDA = "CONFIG_NOT_ON_LAMBDA" as const;
/** The code of an alert whose condition or target cannot be read (an error). */
export const INVALID_ALERT = "CONFIG_INVALID_ALERT" as const;

const anything: JsonSchema = {
  description: "Accepted with a warning: see docs/config.md for what to write instead.",
};
const number = (description: string, minimum = 0): JsonSchema => ({
  type: "number",
  minimum,
  description,
});

/** Keys `autoscaling.<role>` (and `autoscaling` itself, for the workers) take besides min/max. */
export const SCALING_EXTRAS: Record<string, JsonSchema> = {
  enabled: {
    type: "boolean",
    description: "false: no provisioned concurrency and no scaling policy.",
  },
  min_replicas: {
    type: "integer",
    minimum: 0,
    description: "Same as `min`: provisioned concurrency.",
  },
  max_replicas: { type: "integer", minimum: 1, description: "Same as `max`: maximum concurrency." },
  cpu_threshold: number("Accepted with a warning: Lambda has no CPU utilization to scale on."),
  memory_threshold: number(
    "Accepted with a warning: Lambda has no memory utilization to scale on.",
  ),
  activity_queue_depth: {
    type: "integer",
    minimum: 1,
    description: "The queue-depth alarm's threshold for this role's queues. Default 100.",
  },
  target_queue_depth: {
    type: "integer",
    minimum: 1,
    description:
      "Target tracking of provisioned concurrency on queue depth (needs min_replicas ≥ 1).",
  },
};

/** `resources.requests` / `resources.limits`. */
export const RESOURCE_BOUNDS: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    memory: {
      oneOf: [
        { type: "integer", minimum: LAMBDA_MIN_MEMORY_MB, maximum: LAMBDA_MAX_MEMORY_MB },
        {
          type: "string",
          pattern: "^[0-9]+(?:\\.[0-9]+)?\\s*(?:Mi|MiB|MB|M|Gi|GiB|GB|G)$",
        },
      ],
      description: "Lambda memory (limits win over requests).",
    },
    cpu: {
      type: ["string", "number"],
      description: "Accepted with a warning: CPU follows memory.",
    },
  },
};

/** `alerts:` — the scalability guide's alerts as CloudWatch alarms (and scaling steps). */
export const ALERTS_SCHEMA: JsonSchema = {
  type: "array",
  description: "Alarms on queue depth, dead letters, error rate or p99 latency; notify or scale.",
  items: {
    type: "object",
    additionalProperties: false,
    required: ["name", "condition"],
    properties: {
      name: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
      condition: {
        type: "string",
        description:
          "`queue_depth > 100`, `dlq_depth > 0`, `error_rate > 0.5%`, `p99_latency > 1s`.",
      },
      action: {
        enum: ["notify", "scale_up", "scale_down"],
        description: "Default notify (the alarm topic).",
      },
      target: {
        type: "string",
        description: "For scale actions: `+5 workers`, `-2 engine` (provisioned concurrency).",
      },
      for: {
        type: "string",
        format: "duration",
        description: "How long it must hold. Default 5m.",
      },
    },
  },
};

/** Blocks of other platforms, accepted with a warning each. */
export const FOREIGN_KEYS = {
  messaging: ["broker", "partitions", "replication", "topics"],
  cache: ["provider", "replicas", "nodes", "partitioning", "eviction_policy"],
  database: ["primary", "replicas"],
  platform: ["resources"],
} as const;

/** `temporal:` (the tuning guide's worker block). */
export const TEMPORAL_SCHEMA: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "Temporal worker settings: accepted, each with a warning naming Cascade's equivalent.",
  properties: {
    activity_workers: anything,
    max_concurrent_activities: anything,
    activity_heartbeat_timeout: anything,
  },
};

/** What each accepted-with-a-warning key means here, and what to write instead. */
export const INSTEAD: Record<string, string> = {
  "deployments.*.replicas":
    "Lambda runs as many instances as the load needs; write autoscaling.<role>.max_replicas to cap them or min_replicas to keep some warm",
  "deployments.*.cpu":
    "Lambda gives CPU in proportion to memory (1 vCPU at 1,769 MB); write memory",
  "deployments.*.resources.cpu": "Lambda gives CPU in proportion to memory; write memory",
  "deployments.*.resources.requests.cpu": "Lambda gives CPU in proportion to memory; write memory",
  "deployments.*.resources.limits.cpu": "Lambda gives CPU in proportion to memory; write memory",
  "autoscaling.*.target_utilization":
    "provisioned concurrency is scaled on queue depth here; write target_queue_depth",
  "autoscaling.*.cpu_threshold":
    "Lambda has no CPU utilization to scale on; Cascade scales on queue depth: write target_queue_depth, or an alert with action scale_up",
  "autoscaling.*.memory_threshold":
    "Lambda has no memory utilization to scale on; write target_queue_depth, or an alert with action scale_up",
  "autoscaling.*.enabled":
    "Lambda always scales between zero and max; `enabled: false` only drops provisioned concurrency and scaling policies",
  "messaging.broker":
    "Cascade's messages go through SQS standard queues it creates (the transition queue, one per worker pool); there is no broker to choose",
  "messaging.partitions":
    "SQS queues scale without partitions; write autoscaling.<role>.max_replicas for more consumers",
  "messaging.replication": "SQS stores every message redundantly across availability zones",
  "messaging.topics":
    "the queues follow from the workflows (a transition queue, one per @pool); nothing to declare",
  "cache.provider":
    "the cache is ElastiCache Serverless (Valkey) on AWS and Redis under cascade dev",
  "cache.replicas": "ElastiCache Serverless replicates across availability zones by itself",
  "cache.nodes": "ElastiCache Serverless sizes itself; there are no nodes to choose",
  "cache.partitioning": "ElastiCache Serverless shards by itself",
  "cache.eviction_policy":
    "ElastiCache Serverless evicts least-recently-used keys with a TTL first; every Cascade entry has one (the Task's cache.ttl)",
  "database.primary":
    "the store is DynamoDB (multi-AZ, no primary to name); the table is created by the stack",
  "database.replicas":
    "DynamoDB replicates within the region; reads need no replicas (a global table would be a separate stack)",
  "database.idle_timeout":
    "DynamoDB is HTTP: sockets are kept alive by the SDK; only max_connections applies",
  "database.max_lifetime":
    "DynamoDB is HTTP: sockets are kept alive by the SDK; only max_connections applies",
  "database.validation_interval":
    "DynamoDB is HTTP: there is no connection to validate; only max_connections applies",
  "platform.resources":
    "resources are per function: write deployments.<api|engine|workers>.memory and timeout",
  "temporal.activity_workers":
    "activities run in Lambda functions that scale by themselves; write autoscaling.workers.max_replicas (or engine) to cap them",
  "temporal.max_concurrent_activities":
    "concurrency is the event source's maximum concurrency times messaging.batch_size; write autoscaling.<role>.max_replicas",
  "temporal.activity_heartbeat_timeout":
    "a heartbeat timeout is per Task in the workflow: write `heartbeat: 30s` on the Task",
};

/** `4gb`, `512mb`, `2Ti`, `1500MB` → whole GB, rounded up (at least 1); NaN when unreadable. */
export function parseStorageGb(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt])(?:i?b?)\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const perGb = { k: 1 / (1024 * 1024), m: 1 / 1024, g: 1, t: 1024 }[
    (m[2] ?? "").toLowerCase() as "k" | "m" | "g" | "t"
  ];
  return Math.max(1, Math.ceil(Number(m[1]) * perGb));
}

/** One alert, read. */
export interface AlertConfig {
  readonly name: string;
  readonly metric: "queue_depth" | "dlq_depth" | "error_rate" | "p99_latency";
  readonly operator: ">" | ">=" | "<" | "<=";
  /** Messages, percent, or milliseconds (p99_latency). */
  readonly threshold: number;
  readonly forMinutes: number;
  readonly action: "notify" | "scale_up" | "scale_down";
  /** Scale actions: by how many instances (signed), and whose. */
  readonly step?: { readonly change: number; readonly role: "api" | "engine" | "workers" };
}

/** What the operations blocks turn into. */
export interface OperationsConfig {
  readonly alerts: readonly AlertConfig[];
  /** Per role: the queue-depth alarm's threshold (`activity_queue_depth`). */
  readonly queueDepthAlarm: { readonly engine: number; readonly workers: number };
  /** Per role: target tracking of provisioned concurrency on queue depth. */
  readonly targetQueueDepth: { readonly engine?: number; readonly workers?: number };
  /** Per role: false drops provisioned concurrency and scaling policies. */
  readonly scalingEnabled: {
    readonly api: boolean;
    readonly engine: boolean;
    readonly workers: boolean;
  };
}

/** The queue-depth alarm's threshold when `activity_queue_depth` is not set. */
export const DEFAULT_QUEUE_DEPTH_ALARM = 100;

const CONDITION =
  /^\s*(queue_depth|dlq_depth|error_rate|p99_latency)\s*(>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*(%|ms|s)?\s*$/;
const TARGET = /^\s*([+-][0-9]+)\s+(workers?|engines?|api|instances?)\s*$/;

/** `queue_depth > 100` → its parts, or a message saying what is wrong. */
export function parseCondition(
  text: string,
): Pick<AlertConfig, "metric" | "operator" | "threshold"> | string {
  const m = CONDITION.exec(text);
  if (!m)
    return `'${text}' is not a condition like 'queue_depth > 100', 'dlq_depth > 0', 'error_rate > 0.5%' or 'p99_latency > 1s'`;
  const metric = m[1] as AlertConfig["metric"];
  const unit = m[4];
  let threshold = Number(m[3]);
  if (metric === "p99_latency") {
    if (unit !== "ms" && unit !== "s")
      return `p99_latency needs a unit: '${metric} > 1s' or '> 1000ms'`;
    if (unit === "s") threshold *= 1000;
  } else if (metric === "error_rate") {
    if (unit !== undefined && unit !== "%") return "error_rate is in percent: 'error_rate > 0.5%'";
  } else if (unit !== undefined) return `${metric} counts messages; write it without a unit`;
  return { metric, operator: m[2] as AlertConfig["operator"], threshold };
}

/** `+5 workers` → `{change: 5, role: "workers"}`, or a message. */
export function parseTarget(text: string): NonNullable<AlertConfig["step"]> | string {
  const m = TARGET.exec(text);
  if (!m) return `'${text}' is not a target like '+5 workers' or '-2 engine'`;
  const word = m[2] ?? "";
  const role = word.startsWith("engine") ? "engine" : word === "api" ? "api" : "workers";
  return { change: Number(m[1]), role };
}

/** A raw `autoscaling.<role>` (or the flat `autoscaling` block). */
export type RawScalingExtras = {
  min?: number;
  max?: number;
  enabled?: boolean;
  min_replicas?: number;
  max_replicas?: number;
  cpu_threshold?: number;
  memory_threshold?: number;
  activity_queue_depth?: number;
  target_queue_depth?: number;
  target_utilization?: number;
};

export interface RawAlert {
  name: string;
  condition: string;
  action?: AlertConfig["action"];
  target?: string;
  for?: string;
}

type Roles = "api" | "engine" | "workers";

/** The scaling keys of a role: its own block, and for the workers the flat `autoscaling` keys. */
export function scalingOf(
  autoscaling: Record<string, unknown> | undefined,
  role: Roles,
): RawScalingExtras {
  const own = (autoscaling?.[role] ?? {}) as RawScalingExtras;
  if (role !== "workers" || !autoscaling) return own;
  const flat = Object.fromEntries(
    Object.entries(autoscaling).filter(([k]) => !["api", "engine", "workers"].includes(k)),
  ) as RawScalingExtras;
  return { ...flat, ...own };
}

/** Reads the operations blocks; `problem` gets every error and warning, with its path. */
export function buildOperations(
  raw: { autoscaling?: Record<string, unknown>; alerts?: RawAlert[] },
  problem: (code: string, path: (string | number)[], message: string, warning?: boolean) => void,
): OperationsConfig {
  const alerts: AlertConfig[] = [];
  (raw.alerts ?? []).forEach((a, index) => {
    const condition = parseCondition(a.condition);
    if (typeof condition === "string") {
      problem(INVALID_ALERT, ["alerts", index, "condition"], condition);
      return;
    }
    const action = a.action ?? "notify";
    let step: AlertConfig["step"];
    if (action !== "notify") {
      const target = a.target === undefined ? "missing" : parseTarget(a.target);
      if (typeof target === "string") {
        problem(
          INVALID_ALERT,
          ["alerts", index, a.target === undefined ? "action" : "target"],
          a.target === undefined ? `${action} needs a target like '+5 workers'` : target,
        );
        return;
      }
      const sign = action === "scale_up" ? 1 : -1;
      step = { change: sign * Math.abs(target.change), role: target.role };
    } else if (a.target !== undefined) {
      problem(
        NOT_ON_LAMBDA,
        ["alerts", index, "target"],
        "a notify alert has no target; it only publishes to the alarm topic",
        true,
      );
    }
    const forMs = a.for === undefined ? 300_000 : (parseDuration(a.for) ?? 300_000);
    alerts.push({
      name: a.name,
      ...condition,
      forMinutes: Math.max(1, Math.ceil(forMs / 60_000)),
      action,
      ...(step ? { step } : {}),
    });
  });
  const roles: Roles[] = ["api", "engine", "workers"];
  const scaling = Object.fromEntries(
    roles.map((r) => [r, scalingOf(raw.autoscaling, r)]),
  ) as Record<Roles, RawScalingExtras>;
  return {
    alerts,
    queueDepthAlarm: {
      engine: scaling.engine.activity_queue_depth ?? DEFAULT_QUEUE_DEPTH_ALARM,
      workers: scaling.workers.activity_queue_depth ?? DEFAULT_QUEUE_DEPTH_ALARM,
    },
    targetQueueDepth: {
      ...(scaling.engine.target_queue_depth === undefined
        ? {}
        : { engine: scaling.engine.target_queue_depth }),
      ...(scaling.workers.target_queue_depth === undefined
        ? {}
        : { workers: scaling.workers.target_queue_depth }),
    },
    scalingEnabled: {
      api: scaling.api.enabled !== false,
      engine: scaling.engine.enabled !== false,
      workers: scaling.workers.enabled !== false,
    },
  };
}

/**
 * Warns for every accepted key that has no effect here (a `NOT_ON_LAMBDA` warning at
 * its path, with what to write instead). `raw` is the whole document.
 */
export function warnForeignKeys(
  raw: Record<string, unknown>,
  problem: (code: string, path: (string | number)[], message: string, warning?: boolean) => void,
): void {
  const warn = (path: (string | number)[], key: string) =>
    problem(
      NOT_ON_LAMBDA,
      path,
      `accepted, no effect on AWS: ${INSTEAD[key] ?? "see docs/config.md"}`,
      true,
    );
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  const deployments = obj(raw.deployments);
  for (const [role, d] of Object.entries(deployments ?? {})) {
    const dep = obj(d);
    if (!dep) continue;
    if (dep.replicas !== undefined)
      warn(["deployments", role, "replicas"], "deployments.*.replicas");
    if (dep.cpu !== undefined) warn(["deployments", role, "cpu"], "deployments.*.cpu");
    const resources = obj(dep.resources);
    if (resources?.cpu !== undefined)
      warn(["deployments", role, "resources", "cpu"], "deployments.*.resources.cpu");
    for (const bound of ["requests", "limits"]) {
      if (obj(resources?.[bound])?.cpu !== undefined)
        warn(
          ["deployments", role, "resources", bound, "cpu"],
          `deployments.*.resources.${bound}.cpu`,
        );
    }
  }
  const autoscaling = obj(raw.autoscaling);
  const scalingWarn = (block: Record<string, unknown> | undefined, path: string[]) => {
    for (const key of ["cpu_threshold", "memory_threshold", "target_utilization"])
      if (block?.[key] !== undefined) warn([...path, key], `autoscaling.*.${key}`);
    if (block?.enabled === false) warn([...path, "enabled"], "autoscaling.*.enabled");
  };
  scalingWarn(autoscaling, ["autoscaling"]);
  for (const role of ["api", "engine", "workers"])
    scalingWarn(obj(autoscaling?.[role]), ["autoscaling", role]);
  for (const [block, keys] of Object.entries(FOREIGN_KEYS)) {
    const b = obj(raw[block]);
    for (const key of keys) if (b?.[key] !== undefined) warn([block, key], `${block}.${key}`);
  }
  const database = obj(raw.database);
  for (const key of ["idle_timeout", "max_lifetime", "validation_interval"])
    if (database?.[key] !== undefined) warn(["database", key], `database.${key}`);
  const temporal = obj(raw.temporal);
  for (const key of Object.keys(temporal ?? {})) warn(["temporal", key], `temporal.${key}`);
}
