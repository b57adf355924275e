/**
 * The checks of `cascade.yaml` across keys and against AWS's limits, after it is read:
 * triggers, tenants, auth, limits of Lambda, SQS, API Gateway and EventBridge, the
 * activities block, and the operations blocks' warnings. Every problem at once.
 */
import { existsSync } from "node:fs";
import type { DocPath } from "../core/cdl/index.ts";
import {
  API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
  CASCADE_ENVIRONMENT_RESERVE_BYTES,
  ELASTICACHE_SERVERLESS_MAX_STORAGE_GB,
  ENV,
  EVENTBRIDGE_MIN_RATE_MINUTES,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  LAMBDA_MAX_BATCHING_WINDOW_SECONDS,
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_MIN_MEMORY_MB,
  MAX_SYNC_WAIT_SECONDS,
  SQS_EVENT_SOURCE_MIN_CONCURRENCY,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
} from "../manifest/index.ts";
import {
  ENV_NAME_PATTERN,
  environmentBytes,
  missingSecrets,
  reservedEnvName,
} from "./activity-setup.ts";
import { activitiesBlock, type RawConfig } from "./config-build.ts";
import {
  type AppConfig,
  CONFIG_CODES,
  type ConfigCheckOptions,
  type ConfigCode,
  MAX_RECONCILER_EVERY_MINUTES,
} from "./config-types.ts";
import { buildOperations, scalingOf, warnForeignKeys } from "./operations-config.ts";

/** One problem found, with its path in the document. */
export interface Problem {
  readonly code: ConfigCode | `CONFIG_${string}`;
  readonly path: DocPath;
  readonly message: string;
  /** Accepted, but worth saying (a key with no effect here). */
  readonly warning?: boolean;
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

/** Every problem of a read `cascade.yaml`, appended to `out`. */
export function checkConfig(
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
  const storage = config.cache.maxMemoryGb;
  if (storage !== undefined) {
    if (!config.cache.enabled)
      operations(
        "CONFIG_NOT_ON_LAMBDA",
        ["cache", "max_memory"],
        "accepted, no effect on AWS: there is no cache to size; with cache.enabled: true, max_memory caps ElastiCache Serverless's data storage",
        true,
      );
    else if (!(storage <= ELASTICACHE_SERVERLESS_MAX_STORAGE_GB))
      problem(
        CONFIG_CODES.LIMIT,
        ["cache", "max_memory"],
        `ElastiCache Serverless stores at most ${ELASTICACHE_SERVERLESS_MAX_STORAGE_GB} GB`,
      );
  }
  if (config.tracing.endpoint !== undefined && config.tracing.exporter !== "otlp")
    operations(
      "CONFIG_NOT_ON_LAMBDA",
      ["tracing", "endpoint"],
      "accepted, no effect: nothing is exported without `exporter: otlp`",
      true,
    );
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
