/**
 * `cascade.yaml`: the app's one configuration file. Validated once, all at once,
 * with the same line, column and "did you mean" as a workflow; unknown keys are
 * errors. A folder without the file is an app with every default.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import {
  type ActivityRef,
  checkStructure,
  type Diagnostic,
  type DocPath,
  isRecord,
  parseDuration,
  parseYamlDocument,
  reporter,
  sortDiagnostics,
  type TaskFunction,
} from "../core/cdl/index.ts";
import {
  API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
  CASCADE_ENVIRONMENT_RESERVE_BYTES,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  DEFAULT_RETENTION_DAYS,
  ENV,
  EVENTBRIDGE_MIN_RATE_MINUTES,
  FUNCTION_DEFAULTS,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  LAMBDA_MAX_BATCHING_WINDOW_SECONDS,
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_MIN_MEMORY_MB,
  MAX_SYNC_WAIT_SECONDS,
  QUEUE_DEFAULTS,
  SQS_EVENT_SOURCE_MIN_CONCURRENCY,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  TASK_COMMIT_MARGIN_MS,
} from "../manifest/index.ts";
import {
  type ActivityPermission,
  type ActivitySetup,
  ENV_NAME_PATTERN,
  environmentBytes,
  missingSecrets,
  parseSecretRef,
  reservedEnvName,
  type SecretRef,
} from "./activity-setup.ts";
import { APP_CONFIG_SCHEMA, type LOG_LEVELS } from "./config-schema.ts";
import {
  buildOperations,
  type OperationsConfig,
  type RawAlert,
  scalingOf,
  warnForeignKeys,
} from "./operations-config.ts";
import { APP_CONFIG_FILE } from "./workflows.ts";

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
  readonly cache: { readonly enabled: boolean; readonly ttlSeconds: number };
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
  logging: { level: "INFO" },
  // No reservation by default: reserving even 1 fails on accounts whose quota is 100 or
  // less (new accounts), and overlapping runs only send duplicates the receivers drop.
  reconciler: { everyMinutes: 5, reservedConcurrency: 0 },
} as const;

/** Raised by `readAppConfig` when `cascade.yaml` has errors; carries every one. */
export class AppConfigError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(
      `${file} has ${errors.length} error(s):\n${errors
        .map((d) => `  ${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`)
        .join("\n")}`,
    );
    this.name = "AppConfigError";
    this.diagnostics = diagnostics;
  }
}

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

/**
 * Reads `<dir>/cascade.yaml`; a folder without one gets every default.
 * Never throws on bad input: problems are diagnostics (codes `CONFIG_*`).
 */
export async function loadAppConfig(
  dir: string,
  options: ConfigCheckOptions = {},
): Promise<{ config?: AppConfig; diagnostics: readonly Diagnostic[] }> {
  const root = resolve(dir);
  const file = join(root, APP_CONFIG_FILE);
  const text = existsSync(file) ? await readFile(file, "utf8") : "";
  const display = options.display ?? (relative(process.cwd(), file) || file);
  return parseAppConfig(display, text, root, options);
}

/** Like `loadAppConfig`, but throws. @throws AppConfigError listing every error. */
export async function readAppConfig(
  dir: string,
  options: ConfigCheckOptions = {},
): Promise<AppConfig> {
  const { config, diagnostics } = await loadAppConfig(dir, options);
  if (!config) throw new AppConfigError(options.display ?? APP_CONFIG_FILE, diagnostics);
  return config;
}

/** Validates `cascade.yaml`'s text for the app in `dir` (absolute). Pure but for checking that paths exist. */
export function parseAppConfig(
  display: string,
  text: string,
  dir: string,
  options: ConfigCheckOptions = {},
): { config?: AppConfig; diagnostics: readonly Diagnostic[] } {
  const tooLong = text.length > MAX_CONFIG_SOURCE_CHARS;
  const doc = parseYamlDocument(display, tooLong ? "" : text);
  const diagnostics: Diagnostic[] = [...doc.diagnostics];
  const report = reporter(doc, diagnostics);
  const done = (config?: AppConfig) => {
    const all = sortDiagnostics(diagnostics.map(renameCode));
    return config && !all.some((d) => d.severity === "error")
      ? { config, diagnostics: all }
      : { diagnostics: all };
  };
  if (tooLong) {
    report(
      "CDL_INVALID_VALUE",
      [],
      `cascade.yaml is ${text.length} characters; the limit is ${MAX_CONFIG_SOURCE_CHARS}`,
    );
    return done();
  }
  if (diagnostics.some((d) => d.severity === "error")) return done();
  // An empty file is an app with every default.
  const raw: unknown = doc.value ?? {};
  if (!isRecord(raw)) {
    report("CDL_TYPE", [], "cascade.yaml is a mapping, e.g. `name: my-app`");
    return done();
  }
  if (doc.value !== null && doc.value !== undefined) {
    checkStructure(doc, APP_CONFIG_SCHEMA, report, { rootLabel: "cascade.yaml" });
  }
  if (diagnostics.some((d) => d.severity === "error")) return done();
  const config = build(raw as RawConfig, dir);
  const problems: Problem[] = [];
  checkConfig(config, raw as RawConfig, options, problems);
  for (const p of problems)
    report(p.code, p.path, p.message, p.warning ? { severity: "warning" } : {});
  return done(config);
}

interface Problem {
  readonly code: ConfigCode | `CONFIG_${string}`;
  readonly path: DocPath;
  readonly message: string;
  /** Accepted, but worth saying (a key with no effect here). */
  readonly warning?: boolean;
}

/** Structural problems come from CDL's validator with `CDL_*` codes; here they are `CONFIG_*`. */
function renameCode(d: Diagnostic): Diagnostic {
  return d.code.startsWith("CDL_")
    ? { ...d, code: d.code.replace(/^CDL_/, "CONFIG_") as Diagnostic["code"] }
    : d;
}

type RawDeployment = {
  memory?: number | string;
  timeout?: string;
  resources?: {
    memory?: number | string;
    requests?: { memory?: number | string };
    limits?: { memory?: number | string };
  };
};
interface RawActivities {
  path?: string;
  environment?: Record<string, string | number | boolean>;
  secrets?: Record<string, string>;
  permissions?: { effect?: "Allow" | "Deny"; actions: string[]; resources: string[] }[];
}
/** `activities:` in either form: a path, or the block. */
const activitiesBlock = (raw: RawConfig): RawActivities =>
  typeof raw.activities === "string" ? { path: raw.activities } : (raw.activities ?? {});

interface RawConfig {
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
  cache?: { enabled?: boolean; ttl?: string };
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

function build(raw: RawConfig, dir: string): AppConfig {
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

/** The activities block's problems: variable names, the environment's size, and (locally) unset secrets. */
function checkActivitySetup(
  config: AppConfig,
  raw: RawConfig,
  options: ConfigCheckOptions,
  problem: (code: ConfigCode, path: DocPath, message: string) => void,
): void {
  const block = activitiesBlock(raw);
  const { environment, secrets } = config.activitySetup;
  const base: DocPath = ["activities"];
  for (const key of ["environment", "secrets"] as const) {
    for (const name of Object.keys(block[key] ?? {})) {
      const reserved = reservedEnvName(name);
      if (!ENV_NAME_PATTERN.test(name))
        problem(
          CONFIG_CODES.ENV_NAME,
          [...base, key, name],
          `'${name}' is not an environment variable name (letters, digits and _, not starting with a digit)`,
        );
      else if (reserved !== undefined)
        problem(CONFIG_CODES.ENV_NAME, [...base, key, name], `${reserved}: choose another name`);
      else if (key === "secrets" && Object.hasOwn(environment, name))
        problem(
          CONFIG_CODES.ENV_NAME,
          [...base, key, name],
          `${name} is also in activities.environment: a variable is either a value or a secret`,
        );
    }
  }
  const secretsJson = JSON.stringify(block.secrets ?? {});
  const bytes =
    environmentBytes(environment) +
    (Object.keys(secrets).length > 0 ? ENV.SECRETS.length + Buffer.byteLength(secretsJson) : 0);
  const budget = LAMBDA_ENVIRONMENT_LIMIT_BYTES - CASCADE_ENVIRONMENT_RESERVE_BYTES;
  if (bytes > budget)
    problem(
      CONFIG_CODES.LIMIT,
      [...base, block.environment ? "environment" : "secrets"],
      `activities.environment and activities.secrets take ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} for all variables and Cascade keeps ${CASCADE_ENVIRONMENT_RESERVE_BYTES}, so at most ${budget}: move large values into a secret or a parameter`,
    );
  if (options.secretsFrom) {
    for (const name of missingSecrets(config.activitySetup, options.secretsFrom)) {
      problem(
        CONFIG_CODES.SECRET_MISSING,
        [...base, "secrets", name],
        `secret ${name} is not set here: add ${name}=… to the app's .env (never committed) or export it; on AWS it is read from ${block.secrets?.[name] ?? "its store"}`,
      );
    }
  }
}

/**
 * The function each Task of the app runs in, for CDL's timeout check: a Task whose
 * resource names a worker pool (`@payments`, the seed's `@us-east`) runs on that pool's
 * worker function (`deployments.workers`); every other Task runs inline in the engine
 * (`deployments.engine`). Each leaves `TASK_COMMIT_MARGIN_MS` to commit and send.
 */
export function taskFunctions(config: AppConfig): (resource: ActivityRef) => TaskFunction {
  return (resource) => {
    const role = resource.pool === undefined ? "engine" : "workers";
    return {
      label:
        resource.pool === undefined
          ? "the engine function"
          : `the worker function of pool ${resource.pool}`,
      timeoutMs: config.deployments[role].timeoutSeconds * 1000,
      marginMs: TASK_COMMIT_MARGIN_MS,
      setting: `deployments.${role}.timeout in cascade.yaml`,
      maxTimeoutMs: LAMBDA_MAX_TIMEOUT_SECONDS * 1000,
    };
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

function checkConfig(
  config: AppConfig,
  raw: RawConfig,
  options: ConfigCheckOptions,
  out: Problem[],
): void {
  const problem = (code: ConfigCode, path: DocPath, message: string) =>
    out.push({ code, path, message });
  const operations = (
    code: string,
    path: (string | number)[],
    message: string,
    warning?: boolean,
  ) =>
    out.push({
      code: code as `CONFIG_${string}`,
      path,
      message,
      ...(warning ? { warning } : {}),
    });
  buildOperations(raw, operations);
  warnForeignKeys(raw as Record<string, unknown>, operations);
  for (const alert of config.operations.alerts) {
    const role = alert.step?.role;
    if (role !== undefined && config.autoscaling[role].min === 0) {
      const index = (raw.alerts ?? []).findIndex((a) => a.name === alert.name);
      operations(
        "CONFIG_NOT_ON_LAMBDA",
        ["alerts", index, "action"],
        `${alert.action} changes the provisioned concurrency of the ${role}, and autoscaling.${role} keeps none (min_replicas 0): until you set min_replicas ≥ 1 this alert only notifies`,
        true,
      );
    }
  }
  for (const role of ["engine", "workers"] as const) {
    if (
      config.operations.targetQueueDepth[role] !== undefined &&
      config.autoscaling[role].min === 0
    )
      operations(
        "CONFIG_NOT_ON_LAMBDA",
        role === "workers" && raw.autoscaling?.workers === undefined
          ? ["autoscaling", "target_queue_depth"]
          : ["autoscaling", role, "target_queue_depth"],
        `target_queue_depth scales provisioned concurrency, and the ${role} keep none (min_replicas 0): set min_replicas ≥ 1; until then Lambda scales on its own`,
        true,
      );
  }

  if (raw.workflows !== undefined && !existsSync(config.workflows)) {
    problem(CONFIG_CODES.MISSING_PATH, ["workflows"], `no such folder: ${config.workflows}`);
  }
  checkActivitySetup(config, raw, options, problem);
  if (activitiesBlock(raw).path !== undefined && !existsSync(config.activities)) {
    problem(
      CONFIG_CODES.MISSING_PATH,
      typeof raw.activities === "string" ? ["activities"] : ["activities", "path"],
      `no such file or folder: ${config.activities}`,
    );
  }

  const routes = new Map<string, number>();
  config.triggers.forEach((trigger, index) => {
    const key = `${trigger.method} ${trigger.path.replace(/\/+$/, "") || "/"}`;
    const first = routes.get(key);
    if (first !== undefined) {
      problem(
        CONFIG_CODES.DUPLICATE_ROUTE,
        ["triggers", index, "path"],
        `${key} is already routed by triggers[${first}]`,
      );
    } else routes.set(key, index);
    if (trigger.path === "/v1" || trigger.path.startsWith("/v1/")) {
      problem(
        CONFIG_CODES.RESERVED_ROUTE,
        ["triggers", index, "path"],
        "paths under /v1 belong to Cascade's API; choose another, e.g. /orders",
      );
    }
    if (trigger.timeoutSeconds > MAX_SYNC_WAIT_SECONDS) {
      problem(
        CONFIG_CODES.LIMIT,
        ["triggers", index, "timeout"],
        `a sync trigger waits at most ${MAX_SYNC_WAIT_SECONDS}s (API Gateway's integration limit)`,
      );
    }
    if (options.workflows && !options.workflows.has(trigger.workflow)) {
      const known = [...options.workflows].sort();
      problem(
        CONFIG_CODES.UNKNOWN_WORKFLOW,
        ["triggers", index, "workflow"],
        `no workflow named '${trigger.workflow}'; the app has ${known.join(", ") || "none"}`,
      );
    }
  });

  const seen = new Set<string>();
  config.tenants.names.forEach((name, index) => {
    if (seen.has(name)) {
      const path: DocPath = Array.isArray(raw.tenants)
        ? ["tenants", index]
        : ["tenants", "names", index];
      problem(CONFIG_CODES.DUPLICATE_TENANT, path, `tenant '${name}' is listed twice`);
    }
    seen.add(name);
  });

  if (config.auth.type === "jwt" && (config.auth.issuer === undefined || !config.auth.audience)) {
    problem(
      CONFIG_CODES.REQUIRED,
      ["auth"],
      "a jwt authorizer needs `issuer` and `audience` (your identity provider's)",
    );
  }

  const { auth } = config;
  if (auth.public !== undefined && auth.type !== "none")
    problem(CONFIG_CODES.AUTH, ["auth", "public"], "`public` goes with `type: none` only");
  if (auth.type === "none" && auth.public === true && config.tenants.names.length !== 1)
    problem(
      CONFIG_CODES.AUTH,
      ["auth", "public"],
      `a public API has no verified identity, so it serves exactly one tenant; this app lists ${config.tenants.names.length}`,
    );
  if (auth.principals !== undefined && auth.type !== "iam")
    problem(CONFIG_CODES.AUTH, ["auth", "principals"], "`principals` goes with `type: iam` only");
  if (
    auth.type === "iam" &&
    (auth.principals ?? []).length === 0 &&
    config.tenants.names.length > 1
  )
    problem(
      CONFIG_CODES.AUTH,
      ["auth"],
      "with several tenants, `auth: iam` needs `principals` mapping each IAM role or user to its tenant",
    );
  (auth.principals ?? []).forEach((entry, index) => {
    if (!seen.has(entry.tenant))
      problem(
        CONFIG_CODES.AUTH,
        ["auth", "principals", index, "tenant"],
        `tenant '${entry.tenant}' is not one of tenants.names (${config.tenants.names.join(", ")})`,
      );
  });

  for (const role of ["api", "engine", "workers"] as const) {
    const d = config.deployments[role];
    const base: DocPath = ["deployments", role];
    const rawRole = raw.deployments?.[role];
    if (!(d.memoryMb >= LAMBDA_MIN_MEMORY_MB && d.memoryMb <= LAMBDA_MAX_MEMORY_MB)) {
      const where = rawRole?.memory === undefined ? ["resources", "memory"] : ["memory"];
      problem(
        CONFIG_CODES.LIMIT,
        [...base, ...where],
        `Lambda memory is ${LAMBDA_MIN_MEMORY_MB} MB to ${LAMBDA_MAX_MEMORY_MB.toLocaleString("en")} MB; this is ${d.memoryMb} MB`,
      );
    }
    if (d.timeoutSeconds < 1 || d.timeoutSeconds > LAMBDA_MAX_TIMEOUT_SECONDS) {
      problem(
        CONFIG_CODES.LIMIT,
        [...base, "timeout"],
        `a Lambda function's timeout is 1s to 15m; this is ${d.timeoutSeconds}s`,
      );
    }
    const s = config.autoscaling[role];
    if (s.min > s.max) {
      problem(
        CONFIG_CODES.INVALID_VALUE,
        raw.autoscaling?.[role] === undefined ? ["autoscaling"] : ["autoscaling", role, "min"],
        `min (${s.min}) is above max (${s.max})`,
      );
    }
    if (
      role !== "api" &&
      s.max < SQS_EVENT_SOURCE_MIN_CONCURRENCY &&
      scalingOf(raw.autoscaling, role).max !== undefined
    ) {
      problem(
        CONFIG_CODES.LIMIT,
        ["autoscaling", role, "max"],
        `an SQS event source's maximum concurrency is at least ${SQS_EVENT_SOURCE_MIN_CONCURRENCY}`,
      );
    }
  }
  if (config.deployments.api.timeoutSeconds > API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS) {
    problem(
      CONFIG_CODES.LIMIT,
      ["deployments", "api", "timeout"],
      `API Gateway stops waiting after ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS}s; the api's timeout is at most ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS}s`,
    );
  }

  const m = config.messaging;
  if (m.batchingWindowSeconds > LAMBDA_MAX_BATCHING_WINDOW_SECONDS) {
    problem(
      CONFIG_CODES.LIMIT,
      ["messaging", "batching_window"],
      "Lambda's batching window is at most 5m",
    );
  }
  if (m.visibilityTimeoutSeconds !== undefined) {
    const longest = Math.max(
      config.deployments.engine.timeoutSeconds,
      config.deployments.workers.timeoutSeconds,
    );
    if (m.visibilityTimeoutSeconds > SQS_MAX_VISIBILITY_TIMEOUT_SECONDS) {
      problem(
        CONFIG_CODES.LIMIT,
        ["messaging", "visibility_timeout"],
        "SQS's visibility timeout is at most 12h",
      );
    } else if (m.visibilityTimeoutSeconds < longest) {
      problem(
        CONFIG_CODES.INVALID_VALUE,
        ["messaging", "visibility_timeout"],
        `shorter than the functions' timeout (${longest}s): messages would be delivered twice while still running; AWS advises six times it`,
      );
    }
  }

  const every = config.reconciler.everyMinutes;
  if (every < EVENTBRIDGE_MIN_RATE_MINUTES) {
    problem(
      CONFIG_CODES.LIMIT,
      ["reconciler", "every"],
      "EventBridge runs a schedule at most once a minute: use 1m or more",
    );
  } else if (!Number.isInteger(every)) {
    problem(
      CONFIG_CODES.INVALID_VALUE,
      ["reconciler", "every"],
      `an EventBridge rate is in whole minutes: use ${Math.ceil(every)}m`,
    );
  } else if (every > MAX_RECONCILER_EVERY_MINUTES) {
    problem(
      CONFIG_CODES.INVALID_VALUE,
      ["reconciler", "every"],
      "the reconciler runs at least once a day (a stalled execution waits this long for it)",
    );
  }
}
