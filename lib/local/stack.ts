/**
 * The whole runtime on this machine: emulators, the same adapters and handlers
 * as on AWS, and pollers standing in for Lambda's event sources.
 */
import { type AwsClients, createAwsClients } from "../adapters/aws/clients.ts";
import { DynamoDbExecutionStore } from "../adapters/aws/dynamodb-store.ts";
import { S3PayloadStore } from "../adapters/aws/s3-payloads.ts";
import { SqsMessageQueue, SqsQueueConsumer } from "../adapters/aws/sqs-queue.ts";
import type { ExecutionStore, PayloadStore, ResultCache, ThreadRecord } from "../core/ports.ts";
import { QUEUE_DEFAULTS } from "../manifest/index.ts";
import type { ActivityFunction } from "../runtime/activities.ts";
import { processBatch } from "../runtime/batch.ts";
import { DefinitionRegistry } from "../runtime/definitions.ts";
import { Runtime, type RuntimeOptions } from "../runtime/runtime.ts";
import { startEmulatorThread } from "./emulator-thread.ts";
import { type Emulators, type Provisioned, provision, startEmulators } from "./emulators.ts";
import { Poller } from "./poller.ts";

export interface LocalStackOptions {
  readonly app: string;
  /** Workflow sources; `defaultName` names a workflow whose document has no `name` (its file's stem). */
  readonly workflows: readonly {
    readonly file: string;
    readonly source: string;
    readonly defaultName?: string;
  }[];
  readonly activities: ReadonlyMap<string, ActivityFunction>;
  readonly dataDir?: string;
  readonly ephemeral?: boolean;
  /** Batches in flight per queue (Lambda's maximum concurrency). Default 8. */
  readonly concurrency?: number;
  readonly batchSize?: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
  readonly runtime?: Partial<Omit<RuntimeOptions, "app">>;
  /** Wrap the store (e.g. to count calls). */
  readonly wrapStore?: (store: ExecutionStore) => ExecutionStore;
  readonly onError?: (error: unknown) => void;
  /** The result cache for Tasks with a `cache` policy (Redis, or memory). Without it, `cache` is ignored. */
  readonly cache?: ResultCache;
  /** Run the emulators on a worker thread (the second core). Default true. */
  readonly emulatorThread?: boolean;
  /**
   * Run the reconciler every `everyMs` (the scheduled function on AWS): it re-sends what
   * idle executions committed but never sent. Default: not run.
   */
  readonly reconcile?: {
    readonly everyMs: number;
    readonly tenants: readonly string[];
    readonly idleMs: number;
    readonly activityGraceMs?: number;
  };
}

export interface LocalStack {
  readonly runtime: Runtime;
  readonly store: ExecutionStore;
  readonly payloads: PayloadStore;
  readonly clients: AwsClients;
  readonly emulators: Emulators;
  readonly provisioned: Provisioned;
  readonly definitions: DefinitionRegistry;
  /** Waits until the execution has ended; throws after `timeoutMs`. */
  waitFor(executionId: string, timeoutMs?: number, tenant?: string): Promise<ThreadRecord>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const start = options.emulatorThread === false ? startEmulators : startEmulatorThread;
  const emulators = await start({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }),
  });
  const clients = createAwsClients({ endpoints: emulators.endpoints });
  const workerRegions = [...(options.runtime?.workerRegions ?? [])];
  const provisioned = await provision(clients, options.app, {
    workerRegions,
    ...(options.visibilityTimeoutSeconds === undefined
      ? {}
      : { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }),
    ...(options.maxReceiveCount === undefined ? {} : { maxReceiveCount: options.maxReceiveCount }),
  });
  const base = new DynamoDbExecutionStore(clients.lean.dynamodb, provisioned.table);
  const store = options.wrapStore ? options.wrapStore(base) : base;
  const payloads = new S3PayloadStore(clients.s3, provisioned.bucket);
  const queue = new SqsMessageQueue(clients.lean.sqs, provisioned.queues);
  const definitions = new DefinitionRegistry(store);
  for (const workflow of options.workflows)
    definitions.register(workflow.source, workflow.file, workflow.defaultName);
  const runtime = new Runtime(
    {
      store,
      queue,
      payloads,
      clock: { now: () => Date.now() },
      definitions,
      activities: options.activities,
      ...(options.cache ? { cache: options.cache } : {}),
    },
    { ...options.runtime, app: options.app },
  );

  const onError = options.onError ?? (() => {});
  const pollers: Poller[] = [];
  for (const [name, url] of provisioned.queues) {
    const consumer = new SqsQueueConsumer(clients.lean.sqs, url);
    const dead = name === "dlq" || name.startsWith("dlq:");
    const poller = new Poller(
      consumer,
      async (messages) => {
        if (dead) {
          for (const message of messages) await runtime.deadLetter(message.envelope).catch(onError);
          return [];
        }
        const failed = await processBatch(
          runtime,
          messages.map((m) => ({
            id: m.receipt,
            body: JSON.stringify(m.envelope),
            receiveCount: m.receiveCount,
          })),
          (_record, error) => onError(error),
        );
        return failed;
      },
      {
        concurrency: dead ? 1 : (options.concurrency ?? 8),
        batchSize: options.batchSize ?? 10,
        waitMs: 1_000,
        retryDelayMs: 500,
        visibilityTimeoutMs:
          (options.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds) * 1000,
        onError,
      },
    );
    poller.start();
    pollers.push(poller);
  }

  let reconciling: Promise<void> | undefined;
  const reconcileOptions = options.reconcile;
  const reconciler = reconcileOptions
    ? setInterval(() => {
        if (reconciling) return;
        reconciling = runtime
          .reconcile({
            tenants: reconcileOptions.tenants,
            idleMs: reconcileOptions.idleMs,
            ...(reconcileOptions.activityGraceMs === undefined
              ? {}
              : { activityGraceMs: reconcileOptions.activityGraceMs }),
          })
          .then(
            () => undefined,
            (error: unknown) => onError(error),
          )
          .finally(() => {
            reconciling = undefined;
          });
      }, reconcileOptions.everyMs)
    : undefined;
  reconciler?.unref();

  return {
    runtime,
    store,
    payloads,
    clients,
    emulators,
    provisioned,
    definitions,
    async waitFor(executionId, timeoutMs = 30_000, tenant = "default") {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const record = await store.getExecution(tenant, executionId);
        if (record && record.thread.status !== "running") return record;
        if (Date.now() > deadline) {
          throw new Error(
            `execution ${executionId} still ${record?.thread.status ?? "missing"} after ${timeoutMs}ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (reconciler) clearInterval(reconciler);
      await reconciling;
      await Promise.all(pollers.map((p) => p.stop()));
      clients.destroy();
      await emulators.close();
    },
  };
}
