/**
 * Peer benchmark: the seed order workflow on BullMQ (local Redis).
 *
 * validate_order is a job on the `orders` queue; its processor applies the choice
 * and, if the order is valid, adds a flow with FlowProducer: the parent
 * combine_results (also on `orders`) with verify_identity, check_credit and
 * check_inventory as children on the `checks` queue. BullMQ moves the parent to
 * `wait` when the last child completes; its processor reads the children's values.
 * The producer learns of the end from QueueEvents, as a separate client would.
 * Workers run in this process. All keys live under one prefix, removed before and
 * after the run (a lock key keeps a second run from using them meanwhile).
 *
 *   node bench/peers/bullmq.ts [n at c=1] [n at c=32]      # defaults 300 and 2000
 *   REDIS_URL=redis://host:6379 node bench/peers/bullmq.ts
 */
import { FlowProducer, type Job, Queue, QueueEvents, UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import {
  activities,
  type Credit,
  type Decision,
  failed,
  hardTimeout,
  type Identity,
  type Inventory,
  measure,
  type Order,
  order,
  unreachable,
  type ValidatedOrder,
} from "./harness.ts";

const PEER = "bullmq";
const PREFIX = "cascade-bench-bullmq";
const ORDERS = "orders";
const CHECKS = "checks";
/** Job slots per worker: far more than the jobs 32 workflows can have ready at once. */
const WORKER_CONCURRENCY = 64;
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

hardTimeout(PEER);

// ---- Redis ----------------------------------------------------------------------

const admin = new Redis(url, {
  lazyConnect: true,
  connectTimeout: 2000,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
});
let connectError: Error | undefined; // more telling than connect()'s "Connection is closed."
admin.on("error", (error: Error) => {
  connectError = error;
});
try {
  await admin.connect();
  await admin.ping();
} catch (error) {
  admin.disconnect();
  unreachable(
    PEER,
    `Redis at ${url}`,
    connectError ?? error,
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  );
}

async function removeKeys(): Promise<number> {
  let removed = 0;
  let cursor = "0";
  do {
    const [nextCursor, keys] = await admin.scan(cursor, "MATCH", `${PREFIX}:*`, "COUNT", 1000);
    cursor = nextCursor;
    if (keys.length > 0) removed += await admin.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

// Outside PREFIX, so that removeKeys leaves it: keeps two runs from sharing the keys.
const LOCK = `${PREFIX}-lock`;
const token = `${process.pid}-${Date.now()}`;
if ((await admin.set(LOCK, token, "PX", 150_000, "NX")) !== "OK") {
  console.error(`${PEER}: another run holds ${LOCK}; try again when it ends`);
  await admin.quit();
  process.exit(1);
}
await removeKeys();

// Shared by the queue, the flow producer and the workers' command connections;
// workers and QueueEvents duplicate it for their blocking reads.
const connection = new Redis(url, { maxRetriesPerRequest: null });
const keep = { removeOnComplete: true, removeOnFail: true } as const;

// ---- the workflow ---------------------------------------------------------------

const CHECK_NAMES = ["verify_identity", "check_credit", "check_inventory"] as const;
type CheckName = (typeof CHECK_NAMES)[number];

/** validate_order carries the order; combine_results reads its children's values. */
interface OrdersData {
  workflowId: string;
  order?: Order;
}

const flows = new FlowProducer({ connection, prefix: PREFIX });

const ordersWorker = new Worker(
  ORDERS,
  async (job: Job<OrdersData>) => {
    const { workflowId } = job.data;
    switch (job.name) {
      case "validate_order": {
        const validated = activities.validate_order(job.data.order as Order);
        // Choice: an invalid order ends the workflow here (failed, not retried).
        if (!validated.valid) throw new UnrecoverableError("OrderRejected: invalid order");
        // Fixed job ids make this idempotent if validate_order is retried after adding the flow.
        await flows.add({
          name: "combine_results",
          queueName: ORDERS,
          data: { workflowId },
          opts: { jobId: `${workflowId}.combine_results`, ...keep },
          children: CHECK_NAMES.map((name) => ({
            name,
            queueName: CHECKS,
            data: validated,
            opts: { jobId: `${workflowId}.${name}`, failParentOnFailure: true, ...keep },
          })),
        });
        return validated;
      }
      case "combine_results": {
        // Keyed by child job key (`<prefix>:checks:<jobId>`); the job id ends with the check's name.
        const values = await job.getChildrenValues();
        const byName = (name: CheckName): unknown =>
          Object.entries(values).find(([key]) => key.endsWith(`.${name}`))?.[1];
        return activities.combine_results(
          byName("verify_identity") as Identity,
          byName("check_credit") as Credit,
          byName("check_inventory") as Inventory,
        );
      }
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  },
  { connection, prefix: PREFIX, concurrency: WORKER_CONCURRENCY },
);

const checksWorker = new Worker(
  CHECKS,
  async (job: Job<ValidatedOrder>) => {
    const validated = job.data;
    switch (job.name as CheckName) {
      case "verify_identity":
        return activities.verify_identity(validated);
      case "check_credit":
        return activities.check_credit(validated);
      case "check_inventory":
        return activities.check_inventory(validated);
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  },
  { connection, prefix: PREFIX, concurrency: WORKER_CONCURRENCY },
);

for (const worker of [ordersWorker, checksWorker])
  worker.on("error", (error) => console.error(`${PEER}: worker error: ${error.message}`));

// ---- starting and awaiting workflows ----------------------------------------------

const orders = new Queue(ORDERS, { connection, prefix: PREFIX });
const events = new QueueEvents(ORDERS, { connection, prefix: PREFIX });
const waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
const workflowOf = (jobId: string) => jobId.slice(0, jobId.lastIndexOf("."));

events.on("completed", ({ jobId, returnvalue }) => {
  if (!jobId.endsWith(".combine_results")) return;
  const decision = returnvalue as Decision;
  const waiter = waiting.get(workflowOf(jobId));
  if (decision.approved) waiter?.resolve();
  else waiter?.reject(new Error(`${jobId}: not approved: ${decision.reasons.join(", ")}`));
});
events.on("failed", ({ jobId, failedReason }) => {
  waiting.get(workflowOf(jobId))?.reject(new Error(`${jobId} failed: ${failedReason}`));
});

await Promise.all([
  events.waitUntilReady(),
  ordersWorker.waitUntilReady(),
  checksWorker.waitUntilReady(),
]);

async function runOne(n: number): Promise<void> {
  const workflowId = `wf-${n}`;
  const finished = new Promise<void>((resolve, reject) =>
    waiting.set(workflowId, { resolve, reject }),
  );
  try {
    await Promise.all([
      orders.add(
        "validate_order",
        { workflowId, order: order(n) },
        {
          jobId: `${workflowId}.validate_order`,
          attempts: 3,
          backoff: { type: "exponential", delay: 200 },
          ...keep,
        },
      ),
      finished,
    ]);
  } finally {
    waiting.delete(workflowId);
  }
}

let failure: { error: unknown } | undefined;
try {
  await measure(PEER, runOne);
} catch (error) {
  failure = { error };
} finally {
  await Promise.all([ordersWorker.close(), checksWorker.close()]);
  await Promise.all([events.close(), flows.close(), orders.close()]);
  await connection.quit();
  await removeKeys();
  if ((await admin.get(LOCK)) === token) await admin.del(LOCK);
  await admin.quit();
}
if (failure) failed(PEER, failure.error);
