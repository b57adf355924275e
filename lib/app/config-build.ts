import { basename, isAbsolute, join, resolve } from "node:path";
import { parseDuration } from "../core/cdl/index.ts";
import {
  type ActivityPermission,
  type ActivitySetup,
  parseSecretRef,
  type SecretRef,
} from "./activity-setup.ts";
import type { LOG_LEVELS } from "./config-schema.ts";
import {
  type AppConfig,
  CONFIG_DEFAULTS,
  type Deployment,
  type HttpTrigger,
  type LogLevel,
  type Scaling,
} from "./config-types.ts";
import { buildOperations, parseStorageGb, type RawAlert, scalingOf } from "./operations-config.ts";

export type RawDeployment = {
  memory?: number | string;
  timeout?: string;
  resources?: {
    memory?: number | string;
    requests?: { memory?: number | string };
    limits?: { memory?: number | string };
  };
};
export interface RawActivities {
  path?: string;
  environment?: Record<string, string | number | boolean>;
  secrets?: Record<string, string>;
  permissions?: { effect?: "Allow" | "Deny"; actions: string[]; resources: string[] }[];
}
/** `activities:` in either form: a path, or the block. */
export const activitiesBlock = (raw: RawConfig): RawActivities =>
  typeof raw.activities === "string" ? { path: raw.activities } : (raw.activities ?? {});

export interface RawConfig {
  name?: string;
  workflows?: string;
  activities?: string | RawActivities;
  retention?: string;
  payloads?: { offload_threshold?: number };
  auth?: {
    type?: "none" | "jwt" | "iam";
    public?: boolean;
    issuer?: string;
    audience?: string[];
    tenant_claim?: string;
    principals?: { principal: string; tenant: string }[];
  };
  triggers?: {
    method?: HttpTrigger["method"];
    path: string;
    workflow: string;
    mode?: HttpTrigger["mode"];
    timeout?: string;
  }[];
  logging?: { level?: (typeof LOG_LEVELS)[number] };
  tracing?: { exporter?: "none" | "otlp"; endpoint?: string };
  database?: {
    max_connections?: number;
    idle_timeout?: string;
    max_lifetime?: string;
    validation_interval?: string;
  };
  tenants?: string[] | { isolation?: "pooled" | "silo"; names?: string[] };
  deployments?: { api?: RawDeployment; engine?: RawDeployment; workers?: RawDeployment };
  autoscaling?: Record<string, unknown>;
  alerts?: RawAlert[];
  messaging?: {
    batch_size?: number;
    batching_window?: string;
    max_receive_count?: number;
    visibility_timeout?: string;
  };
  cache?: { enabled?: boolean; ttl?: string; max_memory?: string };
  reconciler?: { every?: string; reserved_concurrency?: 0 | 1 };
  platform?: { region?: string; architecture?: "arm64" | "x86_64" };
}

const ms = (text: string | undefined, fallback: number): number =>
  text === undefined ? fallback : (parseDuration(text) ?? fallback);
const seconds = (text: string | undefined, fallback: number): number =>
  text === undefined ? fallback : Math.ceil((parseDuration(text) ?? fallback * 1000) / 1000);

/** `512`, `512Mi`, `1Gi`, `1024MB` → megabytes. */
export function parseMemoryMb(value: number | string): number {
  if (typeof value === "number") return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)$/.exec(value.trim());
  if (!match) return Number.NaN;
  const n = Number(match[1]);
  return Math.round(/^G/.test(match[2] ?? "") ? n * 1024 : n);
}

/** Reads a structurally valid `cascade.yaml` into its config (no checks across keys: config-check.ts). */
export function buildConfig(raw: RawConfig, dir: string): AppConfig {
  const at = (path: string | undefined, fallback: string): string =>
    path === undefined ? join(dir, fallback) : isAbsolute(path) ? path : resolve(dir, path);
  const deployment = (value: RawDeployment | undefined, fallback: Deployment): Deployment => {
    const r = value?.resources;
    const memory = value?.memory ?? r?.memory ?? r?.limits?.memory ?? r?.requests?.memory;
    return {
      memoryMb: memory === undefined ? fallback.memoryMb : parseMemoryMb(memory),
      timeoutSeconds: seconds(value?.timeout, fallback.timeoutSeconds),
    };
  };
  const scaling = (role: "api" | "engine" | "workers"): Scaling => {
    const value = scalingOf(raw.autoscaling, role);
    return {
      min:
        value.enabled === false
          ? 0
          : (value.min ?? value.min_replicas ?? CONFIG_DEFAULTS.autoscaling.min),
      max: value.max ?? value.max_replicas ?? CONFIG_DEFAULTS.autoscaling.max,
    };
  };
  const tenants = Array.isArray(raw.tenants)
    ? { isolation: "pooled" as const, names: raw.tenants }
    : {
        isolation: raw.tenants?.isolation ?? "pooled",
        names: raw.tenants?.names ?? [CONFIG_DEFAULTS.tenant],
      };
  const d = CONFIG_DEFAULTS;
  const visibility = raw.messaging?.visibility_timeout;
  return {
    name: raw.name ?? defaultAppName(dir),
    dir,
    workflows: at(raw.workflows, "workflows"),
    activities: at(activitiesBlock(raw).path, "activities"),
    activitySetup: buildActivitySetup(activitiesBlock(raw)),
    triggers: (raw.triggers ?? []).map((t) => ({
      method: t.method ?? "POST",
      path: t.path,
      workflow: t.workflow,
      mode: t.mode ?? "async",
      timeoutSeconds: seconds(t.timeout, d.triggerTimeoutSeconds),
    })),
    tenants,
    retentionDays: Math.max(
      1,
      Math.ceil(ms(raw.retention, d.retentionDays * 86_400_000) / 86_400_000),
    ),
    offloadThresholdBytes: raw.payloads?.offload_threshold ?? d.offloadThresholdBytes,
    auth: {
      type: raw.auth?.type ?? "none",
      ...(raw.auth?.issuer === undefined ? {} : { issuer: raw.auth.issuer }),
      ...(raw.auth?.audience === undefined ? {} : { audience: raw.auth.audience }),
      tenantClaim: raw.auth?.tenant_claim ?? d.tenantClaim,
      ...(raw.auth?.public === undefined ? {} : { public: raw.auth.public }),
      ...(raw.auth?.principals === undefined
        ? {}
        : {
            principals: raw.auth.principals.map((p) => ({
              principal: p.principal,
              tenant: p.tenant,
            })),
          }),
    },
    database: {
      maxConnections: raw.database?.max_connections ?? d.database.maxConnections,
      idleTimeoutMs: ms(raw.database?.idle_timeout, d.database.idleTimeoutMs),
      maxLifetimeMs: ms(raw.database?.max_lifetime, d.database.maxLifetimeMs),
      validationIntervalMs: ms(raw.database?.validation_interval, d.database.validationIntervalMs),
    },
    deployments: {
      api: deployment(raw.deployments?.api, d.deployments.api),
      engine: deployment(raw.deployments?.engine, d.deployments.engine),
      workers: deployment(raw.deployments?.workers, d.deployments.workers),
    },
    autoscaling: {
      api: scaling("api"),
      engine: scaling("engine"),
      workers: scaling("workers"),
    },
    messaging: {
      batchSize: raw.messaging?.batch_size ?? d.messaging.batchSize,
      batchingWindowSeconds: seconds(
        raw.messaging?.batching_window,
        d.messaging.batchingWindowSeconds,
      ),
      maxReceiveCount: raw.messaging?.max_receive_count ?? d.messaging.maxReceiveCount,
      ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: seconds(visibility, 0) }),
    },
    cache: {
      enabled: raw.cache?.enabled ?? d.cache.enabled,
      ttlSeconds: seconds(raw.cache?.ttl, d.cache.ttlSeconds),
      ...(raw.cache?.max_memory === undefined
        ? {}
        : { maxMemoryGb: parseStorageGb(raw.cache.max_memory) }),
    },
    tracing: {
      exporter: raw.tracing?.exporter ?? d.tracing.exporter,
      ...(raw.tracing?.endpoint === undefined ? {} : { endpoint: raw.tracing.endpoint }),
    },
    logging: {
      level: (raw.logging?.level?.toUpperCase() as LogLevel | undefined) ?? d.logging.level,
    },
    reconciler: {
      everyMinutes: ms(raw.reconciler?.every, d.reconciler.everyMinutes * 60_000) / 60_000,
      reservedConcurrency: raw.reconciler?.reserved_concurrency ?? d.reconciler.reservedConcurrency,
    },
    platform: {
      ...(raw.platform?.region === undefined ? {} : { region: raw.platform.region }),
      architecture: raw.platform?.architecture ?? "arm64",
    },
    operations: buildOperations(raw, () => {}),
  };
}

function buildActivitySetup(raw: RawActivities): ActivitySetup {
  const secrets: Record<string, SecretRef> = {};
  for (const [name, text] of Object.entries(raw.secrets ?? {})) {
    const ref = parseSecretRef(text);
    if (ref) secrets[name] = ref;
  }
  return {
    environment: Object.fromEntries(
      Object.entries(raw.environment ?? {}).map(([name, value]) => [name, String(value)]),
    ),
    secrets,
    permissions: (raw.permissions ?? []).map(
      (p): ActivityPermission => ({
        effect: p.effect ?? "Allow",
        actions: p.actions,
        resources: p.resources,
      }),
    ),
  };
}

/** The folder's name made into an app name: `Order Processing` → `order-processing`. */
export function defaultAppName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 40);
  return name === "" ? "app" : name;
}
