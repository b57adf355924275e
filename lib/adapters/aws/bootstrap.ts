/**
 * The AWS composition root, imported only by `functions/`: building the runtime inside a Lambda function (or any process) from its
 * environment, validated once and all at once. Clients are built here, at
 * module scope of the handler, and reused across invocations.
 */

import type { Logger } from "@aws-lambda-powertools/logger";
import type { AppConfig } from "../../app/config.ts";
import { loadApp } from "../../app/load.ts";
import type { ExecutionStore, ObjectStore, PayloadStore, ResultCache } from "../../core/ports.ts";
import { ENV, workerQueue } from "../../manifest/index.ts";
import { DefinitionRegistry } from "../../runtime/definitions.ts";
import { EmfMetrics } from "../../runtime/metrics.ts";
import { Runtime, TRANSITIONS } from "../../runtime/runtime.ts";
import { traceActivities, traceRuntime } from "../../runtime/tracing.ts";
import { type Tracing, tracingFromEnv } from "../../runtime/tracing-setup.ts";
import { TenantTablesStore } from "../tenant-tables.ts";
import { TieredCache } from "../tiered-cache.ts";
import { createAwsClients } from "./clients.ts";
import { DynamoDbExecutionStore } from "./dynamodb-store.ts";
import { createLogger, powertoolsLog } from "./powertools-log.ts";
import { S3ObjectStore } from "./s3-objects.ts";
import { S3PayloadStore } from "./s3-payloads.ts";
import { SqsMessageQueue } from "./sqs-queue.ts";
import { observeUsage } from "./usage.ts";

/** Raised when the environment is incomplete or malformed; lists every problem. */
export class RuntimeConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`the function's environment is not usable:\n- ${problems.join("\n- ")}`);
    this.name = "RuntimeConfigError";
    this.problems = problems;
  }
}

export interface RuntimeConfig {
  readonly app: string;
  readonly appDir: string;
  readonly table: string;
  readonly bucket: string;
  readonly transitionQueueUrl: string;
  readonly workerQueueUrls: ReadonlyMap<string, string>;
  readonly offloadThresholdBytes?: number;
  readonly retentionDays?: number;
  readonly endpoints?: { dynamodb: string; sqs: string; s3: string };
  /** Silo isolation: tenant → table. */
  readonly tenantTables?: ReadonlyMap<string, string>;
  /** ElastiCache's `host:port`, when the app's cache is on. */
  readonly cacheEndpoint?: string;
}

/** Reads and checks the configuration. @throws RuntimeConfigError with every problem. */
export function readConfig(env: Readonly<Record<string, string | undefined>>): RuntimeConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === "") problems.push(`${name} is not set`);
    return value ?? "";
  };
  const positive = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === "") return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      problems.push(`${name} must be a positive integer, not '${value}'`);
    return n;
  };
  const app = required(ENV.APP);
  const table = required(ENV.TABLE);
  const bucket = required(ENV.PAYLOAD_BUCKET);
  const transitionQueueUrl = required(ENV.TRANSITION_QUEUE_URL);
  const workerQueueUrls = new Map<string, string>();
  const workers = env[ENV.WORKER_QUEUE_URLS];
  if (workers) {
    try {
      for (const [pool, url] of Object.entries(JSON.parse(workers) as Record<string, unknown>)) {
        if (typeof url !== "string") throw new Error(`the URL for ${pool} is not a string`);
        workerQueueUrls.set(pool, url);
      }
    } catch (error) {
      problems.push(
        `${ENV.WORKER_QUEUE_URLS} must be a JSON object of worker pool → queue URL: ${(error as Error).message}`,
      );
    }
  }
  let tenantTables: Map<string, string> | undefined;
  const silo = env[ENV.TENANT_TABLES];
  if (silo) {
    try {
      tenantTables = new Map();
      for (const [tenant, table] of Object.entries(JSON.parse(silo) as Record<string, unknown>)) {
        if (typeof table !== "string") throw new Error(`the table of ${tenant} is not a string`);
        tenantTables.set(tenant, table);
      }
      if (tenantTables.size === 0) throw new Error("it names no tenant");
    } catch (error) {
      problems.push(
        `${ENV.TENANT_TABLES} must be a JSON object of tenant → table name: ${(error as Error).message}`,
      );
    }
  }
  const cacheEndpoint = env[ENV.CACHE_ENDPOINT] || undefined;
  const offloadThresholdBytes = positive(ENV.OFFLOAD_THRESHOLD_BYTES);
  const retentionDays = positive(ENV.RETENTION_DAYS);
  const local = [env[ENV.DYNAMODB_ENDPOINT], env[ENV.SQS_ENDPOINT], env[ENV.S3_ENDPOINT]];
  if (local.some(Boolean) && !local.every(Boolean)) {
    problems.push(
      `${ENV.DYNAMODB_ENDPOINT}, ${ENV.SQS_ENDPOINT} and ${ENV.S3_ENDPOINT} go together`,
    );
  }
  if (problems.length > 0) throw new RuntimeConfigError(problems);
  const [dynamodb, sqs, s3] = local;
  return {
    app,
    appDir: env[ENV.APP_DIR] ?? "app",
    table,
    bucket,
    transitionQueueUrl,
    workerQueueUrls,
    ...(offloadThresholdBytes === undefined ? {} : { offloadThresholdBytes }),
    ...(retentionDays === undefined ? {} : { retentionDays }),
    ...(dynamodb && sqs && s3 ? { endpoints: { dynamodb, sqs, s3 } } : {}),
    ...(tenantTables ? { tenantTables } : {}),
    ...(cacheEndpoint ? { cacheEndpoint } : {}),
  };
}

/** The runtime for a function: adapters over real clients, the app's workflows and activities. */
export async function createRuntimeFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Runtime> {
  return (await createServicesFromEnv(env)).runtime;
}

/** What `createServicesFromEnv` builds: the runtime and the parts the API reads through. */
export interface Services {
  readonly runtime: Runtime;
  readonly store: ExecutionStore;
  readonly payloads: PayloadStore;
  /** The user's buckets (Maps with `item_reader:`/`result_writer:`), through the same S3 client. */
  readonly objects: ObjectStore;
  readonly definitions: DefinitionRegistry;
  /** The app's `cascade.yaml`. */
  readonly appConfig: AppConfig;
  /** The app's name as the environment gives it. */
  readonly app: string;
  /** Set when `CASCADE_TRACES=otlp`: flush it before an invocation returns. */
  readonly tracing?: Tracing;
  /**
   * The function's Powertools logger: the runtime's lines and `ctx.logger` go through it.
   * Handlers add the Lambda context to it (`injectLambdaContext`) for the request id.
   */
  readonly logger: Logger;
}

/** The runtime and its store, payload store, definitions and app config (the `api` function needs them all). */
export async function createServicesFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Services> {
  const config = readConfig(env);
  // Secrets first: activity modules may read them at module scope, when loadApp imports them.
  if (env[ENV.SECRETS]) {
    const { awsSecretReader, loadSecrets } = await import("./secrets.ts");
    const bootstrapClients = createAwsClients();
    try {
      await loadSecrets(env, awsSecretReader(bootstrapClients.dynamodb));
    } finally {
      bootstrapClients.destroy();
    }
  }
  const app = await loadApp(config.appDir);
  const clients = createAwsClients({
    ...(config.endpoints ? { endpoints: config.endpoints } : {}),
    maxSockets: app.config.database.maxConnections,
  });
  const store = config.tenantTables
    ? new TenantTablesStore(
        new Map(
          [...config.tenantTables].map(([tenant, table]) => [
            tenant,
            new DynamoDbExecutionStore(clients.lean.dynamodb, table),
          ]),
        ),
      )
    : new DynamoDbExecutionStore(clients.lean.dynamodb, config.table);
  // Loaded only when the cache is on: the Redis client costs ~100 ms of cold start.
  let cache: ResultCache | undefined;
  if (config.cacheEndpoint) {
    const redis = await import("../redis/result-cache.ts");
    cache = new TieredCache(
      new redis.RedisResultCache(redis.createElastiCacheClient(config.cacheEndpoint)),
      { defaultTtlMs: app.config.cache.ttlSeconds * 1000 },
    );
  }
  const urls = new Map<string, string>([[TRANSITIONS, config.transitionQueueUrl]]);
  for (const [pool, url] of config.workerQueueUrls) urls.set(workerQueue(pool), url);
  const definitions = new DefinitionRegistry(store);
  for (const workflow of app.workflows)
    definitions.register(workflow.source, workflow.file, workflow.defaultName);
  const payloads = new S3PayloadStore(clients.s3, config.bucket);
  const objects = new S3ObjectStore(clients.s3);
  const tracing = await tracingFromEnv(env, `cascade-${config.app}`);
  const logger = createLogger(`cascade-${config.app}`);
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const memoryMb = Number.isFinite(memory) && memory > 0 ? memory : undefined;
  const runtime = new Runtime(
    {
      store,
      queue: new SqsMessageQueue(clients.lean.sqs, urls),
      payloads,
      objects,
      clock: { now: () => Date.now() },
      definitions,
      activities: tracing ? traceActivities(app.activities, tracing.tracer) : app.activities,
      ...(cache ? { cache } : {}),
      // EMF stays raw on standard output: CloudWatch extracts metrics only from a line
      // that is the EMF object itself, never one wrapped in a log record.
      metrics: new EmfMetrics((line) => process.stdout.write(`${line}\n`)),
    },
    {
      app: config.app,
      log: powertoolsLog(logger),
      workerRegions: new Set(config.workerQueueUrls.keys()),
      // The environment wins over cascade.yaml (the construct sets both from the same file).
      offloadThresholdBytes: config.offloadThresholdBytes ?? app.config.offloadThresholdBytes,
      retentionDays: config.retentionDays ?? app.config.retentionDays,
      // This function's own memory: its executions' GB-seconds are measured against it.
      ...(memoryMb === undefined ? {} : { memoryMb: { engine: memoryMb, api: memoryMb } }),
    },
  );
  observeUsage(clients, runtime.meter);
  return {
    runtime: tracing ? traceRuntime(runtime, tracing.tracer) : runtime,
    store,
    payloads,
    objects,
    definitions,
    appConfig: app.config,
    app: config.app,
    ...(tracing ? { tracing } : {}),
    logger,
  };
}
