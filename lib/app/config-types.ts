import {
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  DEFAULT_RETENTION_DAYS,
  FUNCTION_DEFAULTS,
  QUEUE_DEFAULTS,
} from "../manifest/index.ts";
import type { ActivitySetup } from "./activity-setup.ts";
import type { OperationsConfig } from "./operations-config.ts";

/** Stable codes of problems in `cascade.yaml`. */
export const CONFIG_CODES = {
  YAML_SYNTAX: "CONFIG_YAML_SYNTAX",
  DUPLICATE_KEY: "CONFIG_DUPLICATE_KEY",
  UNKNOWN_KEY: "CONFIG_UNKNOWN_KEY",
  REQUIRED: "CONFIG_REQUIRED",
  TYPE: "CONFIG_TYPE",
  INVALID_VALUE: "CONFIG_INVALID_VALUE",
  DURATION: "CONFIG_DURATION",
  MISSING_PATH: "CONFIG_MISSING_PATH",
  UNKNOWN_WORKFLOW: "CONFIG_UNKNOWN_WORKFLOW",
  DUPLICATE_ROUTE: "CONFIG_DUPLICATE_ROUTE",
  RESERVED_ROUTE: "CONFIG_RESERVED_ROUTE",
  DUPLICATE_TENANT: "CONFIG_DUPLICATE_TENANT",
  LIMIT: "CONFIG_LIMIT",
  AUTH: "CONFIG_AUTH",
  /** An `activities.environment` or `activities.secrets` name that is not a variable name, or is Lambda's or Cascade's. */
  ENV_NAME: "CONFIG_ENV_NAME",
  /** `cascade dev`/`cascade run`: a secret of `activities.secrets` that `.env` and the environment do not set. */
  SECRET_MISSING: "CONFIG_SECRET_MISSING",
} as const;
export type ConfigCode = (typeof CONFIG_CODES)[keyof typeof CONFIG_CODES];

/** The largest `cascade.yaml` read, in characters. */
export const MAX_CONFIG_SOURCE_CHARS = 200_000;
/**
 * The longest `reconciler.every` accepted, in minutes (a day). Not an AWS limit: a
 * stalled execution waits up to this long for its repair, so `30d` is taken for a typo.
 */
export const MAX_RECONCILER_EVERY_MINUTES = 24 * 60;

export interface HttpTrigger {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  readonly workflow: string;
  readonly mode: "async" | "sync";
  /** How long a sync trigger waits for the output; at most 29. */
  readonly timeoutSeconds: number;
}

export interface Deployment {
  /** Lambda memory, 128–10,240 MB. */
  readonly memoryMb: number;
  /** Lambda timeout, at most 900 s. */
  readonly timeoutSeconds: number;
}

export interface Scaling {
  /** Provisioned concurrency (0 = none). */
  readonly min: number;
  /** Maximum concurrency (for SQS-fed functions, the event source mapping's). */
  readonly max: number;
}

/** `cascade.yaml`, validated, with every default filled in and paths made absolute. */
export interface AppConfig {
  readonly name: string;
  readonly dir: string;
  readonly workflows: string;
  /** The activity module or folder (`activities`, or `activities.path`). */
  readonly activities: string;
  /** What the functions that run activities get: `activities.{environment,secrets,permissions}`. */
  readonly activitySetup: ActivitySetup;
  readonly triggers: readonly HttpTrigger[];
  readonly tenants: { readonly isolation: "pooled" | "silo"; readonly names: readonly string[] };
  readonly retentionDays: number;
  readonly offloadThresholdBytes: number;
  readonly auth: {
    readonly type: "none" | "jwt" | "iam";
    /**
     * `type: none` only: the app is deployed as an open API on purpose (single-tenant).
     * Without it `cascade synth`/`cdk synth` of an app without auth fails.
     */
    readonly public?: boolean;
    readonly issuer?: string;
    readonly audience?: readonly string[];
    readonly tenantClaim: string;
    /**
     * `type: iam`: which IAM principals act for which tenant. `principal` is a role or
     * user ARN, or `role/<name>` / `user/<name>` of the API's own account; an assumed
     * role's session counts as its role.
     */
    readonly principals?: readonly { readonly principal: string; readonly tenant: string }[];
  };
  readonly database: {
    readonly maxConnections: number;
    readonly idleTimeoutMs: number;
    readonly maxLifetimeMs: number;
    readonly validationIntervalMs: number;
  };
  readonly deployments: {
    readonly api: Deployment;
    readonly engine: Deployment;
    readonly workers: Deployment;
  };
  readonly autoscaling: {
    readonly api: Scaling;
    readonly engine: Scaling;
    readonly workers: Scaling;
  };
  readonly messaging: {
    readonly batchSize: number;
    readonly batchingWindowSeconds: number;
    readonly maxReceiveCount: number;
    /** Unset: six times the consuming function's timeout, as AWS advises. */
    readonly visibilityTimeoutSeconds?: number;
  };
  readonly cache: {
    readonly enabled: boolean;
    readonly ttlSeconds: number;
    /** ElastiCache Serverless's data storage limit, in whole GB (`max_memory`). Default: none. */
    readonly maxMemoryGb?: number;
  };
  /**
   * OpenTelemetry on AWS: `otlp` makes the functions export a span per transition and per
   * activity attempt over OTLP/HTTP, to `endpoint` (default the SDK's, http://localhost:4318,
   * e.g. the ADOT Lambda layer's collector). Default `none`.
   */
  readonly tracing: { readonly exporter: "none" | "otlp"; readonly endpoint?: string };
  /**
   * The functions' logs: Lambda's JSON log format, and this application log level
   * (`ctx.logger` and the runtime's lines below it are dropped). Default INFO.
   */
  readonly logging: { readonly level: LogLevel };
  /** The scheduled function that repairs executions whose committed work was never sent (AWS only). */
  readonly reconciler: {
    /** How often it runs, in whole minutes (an EventBridge `rate()`). */
    readonly everyMinutes: number;
    /** 1: reserved concurrency 1, so two runs never overlap; 0: none reserved. */
    readonly reservedConcurrency: 0 | 1;
  };
  readonly platform: { readonly region?: string; readonly architecture: "arm64" | "x86_64" };
  /** Alerts, alarm thresholds and queue-depth scaling (see operations-config.ts). */
  readonly operations: OperationsConfig;
}

/** Lambda's application log levels, as `logging.level` gives them. */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/** The defaults, in one place (documented in the README's cascade.yaml table). */
export const CONFIG_DEFAULTS = {
  retentionDays: DEFAULT_RETENTION_DAYS,
  offloadThresholdBytes: DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  tenant: "default",
  tenantClaim: "tenant",
  triggerTimeoutSeconds: 25,
  deployments: FUNCTION_DEFAULTS,
  autoscaling: { min: 0, max: 100 },
  database: {
    maxConnections: 50,
    idleTimeoutMs: 60_000,
    maxLifetimeMs: 1_800_000,
    validationIntervalMs: 30_000,
  },
  messaging: {
    batchSize: QUEUE_DEFAULTS.batchSize,
    batchingWindowSeconds: QUEUE_DEFAULTS.batchingWindowSeconds,
    maxReceiveCount: QUEUE_DEFAULTS.maxReceiveCount,
  },
  cache: { enabled: false, ttlSeconds: 300 },
  tracing: { exporter: "none" },
  logging: { level: "INFO" },
  // No reservation by default: reserving even 1 fails on accounts whose quota is 100 or
  // less (new accounts), and overlapping runs only send duplicates the receivers drop.
  reconciler: { everyMinutes: 5, reservedConcurrency: 0 },
} as const;

export interface ConfigCheckOptions {
  /** Workflow names the app has; when given, triggers must name one of them. */
  readonly workflows?: ReadonlySet<string>;
  /** Shown as the file's name in diagnostics. Default: the path relative to the cwd. */
  readonly display?: string;
  /**
   * Where the app will run locally (`cascade dev`, `cascade run`): every secret of
   * `activities.secrets` must be set there, or it is an error (CONFIG_SECRET_MISSING).
   */
  readonly secretsFrom?: Readonly<Record<string, string | undefined>>;
}
