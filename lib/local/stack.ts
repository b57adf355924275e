/**
 * The whole runtime on this machine: emulators, the same adapters and handlers
 * as on AWS, and pollers standing in for Lambda's event sources.
 */
import { type AwsClients, createAwsClients } from "../adapters/aws/clients.ts";
import { DynamoDbExecutionStore } from "../adapters/aws/dynamodb-store.ts";
import { S3ObjectStore } from "../adapters/aws/s3-objects.ts";
import { S3PayloadStore } from "../adapters/aws/s3-payloads.ts";
import { SqsMessageQueue, SqsQueueConsumer } from "../adapters/aws/sqs-queue.ts";
import { observeUsage } from "../adapters/aws/usage.ts";
import type { ActivityFunction } from "../core/activity.ts";
import type {
  ExecutionStore,
  MetricsSink,
  ObjectStore,
  PayloadStore,
  ResultCache,
  ThreadRecord,
} from "../core/ports.ts";
import {
  FUNCTION_DEFAULTS,
  isDeadLetterQueue,
  poolOfQueue,
  QUEUE_DEFAULTS,
} from "../manifest/index.ts";
import { processBatch } from "../runtime/batch.ts";
import { DefinitionRegistry } from "../runtime/definitions.ts";
import { Runtime, type RuntimeOptions } from "../runtime/runtime.ts";
import { startEmulatorThread } from "./emulator-thread.ts";
import { type Emulators, type Provisioned, provision, startEmulators } from "./emulators.ts";
import { type KilledBatch, Poller } from "./poller.ts";

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
  /**
   * The functions' timeouts, in seconds (`cascade.yaml`'s `deployments.<engine|workers>.timeout`):
   * the engine's bounds each batch of the transition and dead-letter queues, the workers'
   * each batch of a worker queue. A batch past it is killed as Lambda kills it (see
   * `PollerOptions.functionTimeoutMs`). Default: `FUNCTION_DEFAULTS`, as on AWS.
   */
  readonly functionTimeouts?: {
    readonly engineSeconds?: number;
    readonly workersSeconds?: number;
  };
  /** Called once per killed batch. Default: `onError` with a `FunctionTimeoutError`. */
  readonly onFunctionTimeout?: (timeout: FunctionTimeout) => void;
  readonly maxReceiveCount?: number;
  readonly runtime?: Partial<Omit<RuntimeOptions, "app">>;
  /** Wrap the store (e.g. to count calls). */
  readonly wrapStore?: (store: ExecutionStore) => ExecutionStore;
  readonly onError?: (error: unknown) => void;
  /** The result cache for Tasks with a `cache` policy (Redis, or memory). Without it, `cache` is ignored. */
  readonly cache?: ResultCache;
  /** Where the runtime's metrics go (the local metrics store). Default: EMF lines to the runtime's log. */
  readonly metrics?: MetricsSink;
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
  /** The embedded S3's buckets, for Maps with `item_reader:`/`result_writer:` (create buckets with `clients.s3`). */
  readonly objects: ObjectStore;
  readonly clients: AwsClients;
  readonly emulators: Emulators;
  readonly provisioned: Provisioned;
  readonly definitions: DefinitionRegistry;
  /** Waits until the execution has ended; throws after `timeoutMs`. */
  waitFor(executionId: string, timeoutMs?: number, tenant?: string): Promise<ThreadRecord>;
  stop(): Promise<void>;
}

/** A batch killed for running past its function's timeout. */
export interface FunctionTimeout {
  /** The queue: `transitions`, `worker:<pool>`, `dlq`, `dlq:<pool>` (lib/manifest/queues.ts). */
  readonly queue: string;
  /** The function consuming it, as people say it: `the engine function`, `the worker function for us-east`. */
  readonly function: string;
  readonly timeoutSeconds: number;
  /** The executions its messages belonged to, without duplicates. */
  readonly executions: readonly string[];
  readonly messages: number;
  /** One line saying what happened and what comes next. */
  readonly message: string;
}

/** A batch was killed at its function's timeout (the default report of `onFunctionTimeout`). */
export class FunctionTimeoutError extends Error {
  readonly timeout: FunctionTimeout;
  constructor(timeout: FunctionTimeout) {
    super(timeout.message);
    this.name = "FunctionTimeoutError";
    this.timeout = timeout;
  }
}

/** The function that consumes a queue of the local stack, as the CDK construct wires it. */
function consumerOf(
  queue: string,
  timeouts: LocalStackOptions["functionTimeouts"],
): { label: string; timeoutSeconds: number } {
  const pool = poolOfQueue(queue);
  if (pool !== undefined) {
    return {
      label: `the worker function of pool ${pool}`,
      timeoutSeconds: timeouts?.workersSeconds ?? FUNCTION_DEFAULTS.workers.timeoutSeconds,
    };
  }
  // The transition queue, and every dead-letter queue (the dead-letter function has the engine's settings).
  return {
    label: isDeadLetterQueue(queue) ? "the dead-letter function" : "the engine function",
    timeoutSeconds: timeouts?.engineSeconds ?? FUNCTION_DEFAULTS.engine.timeoutSeconds,
  };
}

function describeTimeout(
  queue: string,
  consumer: { label: string; timeoutSeconds: number },
  killed: KilledBatch,
): FunctionTimeout {
  const executions = [
    ...new Set(killed.messages.map((m) => m.envelope.body?.header?.executionId ?? "?")),
  ];
  const n = killed.messages.length;
  return {
    queue,
    function: consumer.label,
    timeoutSeconds: consumer.timeoutSeconds,
    executions,
    messages: n,
    message: `${consumer.label} timed out after ${consumer.timeoutSeconds}s handling ${n} message(s) of ${executions.join(", ")}: the invocation is killed, as Lambda would; none is deleted, and they are delivered again once their visibility timeout passes`,
  };
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
  const objects = new S3ObjectStore(clients.s3);
  const queue = new SqsMessageQueue(clients.lean.sqs, provisioned.queues);
  const definitions = new DefinitionRegistry(store);
  for (const workflow of options.workflows)
    definitions.register(workflow.source, workflow.file, workflow.defaultName);
  const runtime = new Runtime(
    {
      store,
      queue,
      payloads,
      objects,
      clock: { now: () => Date.now() },
      definitions,
      activities: options.activities,
      ...(options.cache ? { cache: options.cache } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    },
    { ...options.runtime, app: options.app },
  );

  observeUsage(clients, runtime.meter);

  const onError = options.onError ?? (() => {});
  const pollers: Poller[] = [];
  for (const [name, url] of provisioned.queues) {
    const consumer = new SqsQueueConsumer(clients.lean.sqs, url);
    const dead = isDeadLetterQueue(name);
    const consumerFunction = consumerOf(name, options.functionTimeouts);
    const poller = new Poller(
      consumer,
      async (messages, { signal }) => {
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
          { signal },
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
        functionTimeoutMs: consumerFunction.timeoutSeconds * 1000,
        onTimeout: (killed) => {
          const timeout = describeTimeout(name, consumerFunction, killed);
          if (options.onFunctionTimeout) options.onFunctionTimeout(timeout);
          else onError(new FunctionTimeoutError(timeout));
        },
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
    objects,
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
