/**
 * Runtime benchmark on the embedded emulators (dynalite, fauxqs): the seed
 * order workflow (validate → choice → three parallel checks → combine) through
 * the same adapters, handlers and pollers as `cascade dev`.
 *
 * Prints, per execution and per state transition: DynamoDB reads and writes
 * (requests and capacity units), SQS requests, S3 requests (all counted with SDK
 * middleware), hops on the critical path, workflows per second at concurrency 1
 * and 32, p50/p99 end-to-end latency, and dollars per million transitions at
 * public on-demand prices. Then runs the peers in bench/peers, if present.
 *
 *   npm run bench:runtime              # defaults: 60 at c=1, 600 at c=32
 *   node bench/runtime.ts 100 1000
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Item } from "../lib/adapters/aws/dynamodb-items.ts";
import { itemWriteUnits } from "../lib/adapters/aws/dynamodb-usage.ts";
import type { ExecutionStore, ThreadRecord } from "../lib/core/ports.ts";
import { dollarsOf, PRICES } from "../lib/core/prices.ts";
import { startLocalStack } from "../lib/local/stack.ts";
import type { ActivityFunction } from "../lib/runtime/activities.ts";

const [serialRuns = 60, concurrentRuns = 600] = process.argv.slice(2).map(Number);
const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

// The seed documents' order workflow, as in the example, without its 1-hour workflow
// timeout: that timer is one delayed message per execution, which would sit in the
// emulator's queue for an hour (it costs one SQS send per execution on AWS).
const source = readFileSync(
  root("examples/order-processing/workflows/order-fulfillment.yaml"),
  "utf8",
).replace(/^timeout: 1h\n/m, "");

const order = (n: number) => ({
  customer_id: `c-${n}`,
  cart_items: [{ id: "sku-1", quantity: 2, price: 30 }],
});
const activities: Record<string, ActivityFunction> = {
  validate_order: (input: Record<string, unknown>) => ({ ...input, valid: true }),
  verify_identity: () => ({ verified: true, method: "document" }),
  check_credit: () => ({ approved: true, limit: 1000 }),
  check_inventory: (input: { product_ids: string[] }) => ({
    in_stock: true,
    checked: input.product_ids.length,
  }),
  combine_results: () => ({ approved: true, reasons: [] }),
};

// ---- counting ---------------------------------------------------------------

const counts = {
  ddbRequests: {} as Record<string, number>,
  wcu: 0,
  rcu: 0,
  sqsRequests: {} as Record<string, number>,
  s3Requests: {} as Record<string, number>,
  transitions: 0,
};
const reset = () => {
  counts.ddbRequests = {};
  counts.wcu = 0;
  counts.rcu = 0;
  counts.sqsRequests = {};
  counts.s3Requests = {};
  counts.transitions = 0;
};
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Capacity units DynamoDB would bill: 1 KB per write unit, 4 KB per strongly consistent read unit. */
function capacity(
  command: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
): void {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? {}));
  // Write units as DynamoDB bills them: attribute names and values, binary as bytes.
  if (command === "PutItemCommand") counts.wcu += itemWriteUnits(input.Item as Item);
  else if (command === "DeleteItemCommand") counts.wcu += 1;
  else if (command === "BatchWriteItemCommand") {
    for (const requests of Object.values(
      (input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: unknown } }[]>,
    )) {
      for (const r of requests)
        counts.wcu += r.PutRequest ? itemWriteUnits(r.PutRequest.Item as Item) : 1;
    }
  } else if (command === "GetItemCommand")
    counts.rcu += Math.max(1, Math.ceil(size(output.Item) / 4096));
  else if (command === "QueryCommand")
    counts.rcu += Math.max(1, Math.ceil(size(output.Items) / 4096));
}

const byItem: Record<string, number> = {};
const sizesOf: Record<string, Record<string, number>[]> = {};
const done = new Map<string, (record: ThreadRecord) => void>();
const wrapStore = (store: ExecutionStore): ExecutionStore =>
  new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "putThread") {
        return async (record: ThreadRecord, expected: number, expiresAt?: number) => {
          const ok = await value.call(target, record, expected, expiresAt);
          if (ok) {
            // A step's history is written with the step: count its transitions from it.
            counts.transitions += record.events.filter((e) => e.type === "StateEntered").length;
            if (record.thread.id === "root" && record.thread.status !== "running")
              done.get(record.header.executionId)?.(record);
          }
          return ok;
        };
      }
      return value.bind(target);
    },
  });

const stack = await startLocalStack({
  app: "bench",
  ephemeral: true,
  workflows: [{ file: "order-fulfillment.yaml", source }],
  activities: new Map(Object.entries(activities)),
  concurrency: 8,
  runtime: { log: () => {} },
  wrapStore,
  onError: (error) => console.error("handler error:", error),
});

// The runtime's hot path goes through the lean JSON clients; the rest through the SDK's.
type Observable = {
  observe: (
    f: (op: string, i: Record<string, unknown>, o: Record<string, unknown>) => void,
  ) => void;
};
const countLean = (
  client: Observable,
  into: () => Record<string, number>,
  onDone?: typeof capacity,
) => {
  client.observe((operation, input, output) => {
    const command = `${operation}Command`;
    into()[command] = (into()[command] ?? 0) + 1;
    onDone?.(command, input, output);
  });
};
countLean(
  stack.clients.lean.dynamodb,
  () => counts.ddbRequests,
  (command, input, output) => {
    capacity(command, input, output);
    if (!process.env.BENCH_ITEMS) return;
    // BENCH_ITEMS=1: which items the requests touch (sort key up to its first `#`).
    const key = ((input.Item ?? input.Key) as Record<string, { S?: string }> | undefined)?.sk?.S;
    const kind = `${command.replace("Command", "")} ${key?.replace(/#.*$/, "") ?? "?"}`;
    byItem[kind] = (byItem[kind] ?? 0) + 1;
    if (command === "PutItemCommand") {
      const item = input.Item as Record<string, unknown>;
      const sizes = Object.fromEntries(
        Object.entries(item).map(([k, v]) => [k, Buffer.byteLength(JSON.stringify(v))]),
      );
      sizesOf[kind] ??= [];
      sizesOf[kind].push(sizes);
    }
  },
);
countLean(stack.clients.lean.sqs, () => counts.sqsRequests);
type Middlewared = {
  middlewareStack: {
    add: (
      middleware: (
        next: (args: {
          input: Record<string, unknown>;
        }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) => (args: {
        input: Record<string, unknown>;
      }) => Promise<{ output: Record<string, unknown> }>,
      options: { step: "initialize"; name: string },
    ) => void;
  };
};
const count = (
  client: unknown,
  into: () => Record<string, number>,
  name: string,
  onDone?: typeof capacity,
) => {
  (client as Middlewared).middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = context.commandName ?? "?";
      into()[command] = (into()[command] ?? 0) + 1;
      onDone?.(command, args.input, result.output);
      return result;
    },
    { step: "initialize", name },
  );
};
count(stack.clients.dynamodb, () => counts.ddbRequests, "count-ddb", capacity);
count(stack.clients.sqs, () => counts.sqsRequests, "count-sqs");
count(stack.clients.s3, () => counts.s3Requests, "count-s3");

// ---- running ----------------------------------------------------------------

let seq = 0;
async function runOne(): Promise<number> {
  const id = `b-${++seq}`;
  const finished = new Promise<ThreadRecord>((resolve) => done.set(id, resolve));
  const started = performance.now();
  await stack.runtime.startExecution("OrderFulfillment", order(seq), { id });
  const record = await finished;
  done.delete(id);
  if (record.thread.status !== "succeeded")
    throw new Error(`execution ${id} ${record.thread.status}`);
  return performance.now() - started;
}

async function phase(total: number, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        latencies.push(await runOne());
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { rate: total / seconds, p50: pct(0.5), p99: pct(0.99) };
}

// Hops: queued runs on the critical path of one execution — each run of the root is
// one, and the runs of one join's branches (side by side in one batch) are one.
async function hops(): Promise<number> {
  const waves = new Set<string>();
  const original = stack.runtime.handle.bind(stack.runtime);
  stack.runtime.handle = async (envelope, receiveCount, batch) => {
    const body = envelope.body;
    if (body.kind === "run") {
      const thread = body.token.thread;
      waves.add(thread === "root" ? envelope.mid : thread.slice(0, thread.lastIndexOf("[")));
    }
    return original(envelope, receiveCount, batch);
  };
  await runOne();
  stack.runtime.handle = original;
  return waves.size;
}

await phase(20, 4); // warm-up: JIT, connections, table
const criticalHops = await hops();

reset();
const serial = await phase(serialRuns, 1);
const perExecution = {
  ddbRequests: sum(counts.ddbRequests) / serialRuns,
  writes:
    ((counts.ddbRequests.PutItemCommand ?? 0) +
      (counts.ddbRequests.BatchWriteItemCommand ?? 0) +
      (counts.ddbRequests.DeleteItemCommand ?? 0)) /
    serialRuns,
  reads:
    ((counts.ddbRequests.GetItemCommand ?? 0) + (counts.ddbRequests.QueryCommand ?? 0)) /
    serialRuns,
  wcu: counts.wcu / serialRuns,
  rcu: counts.rcu / serialRuns,
  sqs: sum(counts.sqsRequests) / serialRuns,
  sqsSends: (counts.sqsRequests.SendMessageBatchCommand ?? 0) / serialRuns,
  s3: sum(counts.s3Requests) / serialRuns,
  transitions: counts.transitions / serialRuns,
};
// What the runtime recorded as the last serial execution's cost (GET execution's `cost`),
// beside what the clients counted per execution above (its summary's end may still be in flight).
await new Promise((resolve) => setTimeout(resolve, 200));
const recorded = await stack.store.usageOf({ tenant: "default", executionId: `b-${seq}` }, 2_000);
const byCommand = { ...counts.ddbRequests };
const sqsByCommand = { ...counts.sqsRequests };
reset();
const concurrent = await phase(concurrentRuns, 32);
// At concurrency 32 one SQS batch holds steps of several executions: its sends, deletes and
// history appends are shared, so requests per execution fall.
const atConcurrency = {
  ddb: sum(counts.ddbRequests) / concurrentRuns,
  sqs: sum(counts.sqsRequests) / concurrentRuns,
  byCommand: { ...counts.ddbRequests, ...counts.sqsRequests },
};
await stack.stop();

// ---- report -----------------------------------------------------------------

const f = (n: number, digits = 1) => n.toFixed(digits);
const t = perExecution.transitions;
// List prices from the one table (lib/core/prices.ts). Lambda assumed: one invocation per
// queued message, 512 MB, 30 ms each.
const lambdaInvocations =
  perExecution.sqs > 0 ? (sqsByCommand.ReceiveMessageCommand ? perExecution.sqsSends : 0) : 0;
const perMillionTransitions = (perExec: number) => (perExec / t) * 1e6;
const dollars = {
  dynamodb:
    perMillionTransitions(perExecution.wcu) * PRICES.dynamodb.writeUnit +
    perMillionTransitions(perExecution.rcu) * PRICES.dynamodb.readUnit,
  sqs: perMillionTransitions(perExecution.sqsSends * 3) * PRICES.sqs.request,
  s3: perMillionTransitions(perExecution.s3) * PRICES.s3.put,
  lambda:
    perMillionTransitions(lambdaInvocations * 3.3) *
    (PRICES.lambda.invocation + 0.5 * 0.03 * PRICES.lambda.gbSecond),
};
const total = dollars.dynamodb + dollars.sqs + dollars.s3 + dollars.lambda;

console.log(
  `cascade runtime: seed order workflow on dynalite + fauxqs (in-process), ${t} state transitions per execution`,
);
console.log(`  hops on the critical path: ${criticalHops}`);
console.log(
  `  per execution: DynamoDB ${f(perExecution.writes)} writes (${f(perExecution.wcu)} WCU) + ${f(perExecution.reads)} reads (${f(perExecution.rcu)} RCU); SQS ${f(perExecution.sqs)} requests (${f(perExecution.sqsSends)} send batches); S3 ${f(perExecution.s3)}`,
);
console.log(
  `  per transition: DynamoDB ${f(perExecution.writes / t, 2)} writes, ${f(perExecution.reads / t, 2)} reads; SQS ${f(perExecution.sqs / t, 2)} requests`,
);
console.log(
  `  recorded cost of one execution (GET execution's cost): ${f(recorded.usage.wcu)} WCU, ${f(recorded.usage.rcu)} RCU, SQS ${f(recorded.usage.sqs)} requests, S3 ${f(recorded.usage.s3 + recorded.usage.s3Get)}, Lambda ${f(recorded.usage.invocations, 2)} invocations / ${f(recorded.usage.gbs, 3)} GB-s = $${(dollarsOf(recorded.usage) * 1e6).toFixed(2)} per million executions`,
);
console.log(`  DynamoDB requests by command (c=1, total): ${JSON.stringify(byCommand)}`);
console.log(`  SQS requests by command (c=1, total): ${JSON.stringify(sqsByCommand)}`);
if (process.env.BENCH_ITEMS)
  console.log(`  DynamoDB requests by item (all runs): ${JSON.stringify(byItem)}`);
if (process.env.BENCH_ITEMS)
  for (const [kind, list] of Object.entries(sizesOf)) {
    const avg: Record<string, number> = {};
    for (const sizes of list)
      for (const [k, v] of Object.entries(sizes)) avg[k] = (avg[k] ?? 0) + v / list.length;
    console.log(
      `  ${kind} bytes by attribute (avg of ${list.length}): ${JSON.stringify(Object.fromEntries(Object.entries(avg).map(([k, v]) => [k, Math.round(v)])))}`,
    );
  }
console.log(
  `  at c=32, per execution: DynamoDB ${f(atConcurrency.ddb)} requests, SQS ${f(atConcurrency.sqs)} requests; by command (total): ${JSON.stringify(atConcurrency.byCommand)}`,
);
console.log(
  `cascade c=1   n=${serialRuns}  wf/s=${f(serial.rate)}  p50=${f(serial.p50)}ms  p99=${f(serial.p99)}ms`,
);
console.log(
  `cascade c=32  n=${concurrentRuns}  wf/s=${f(concurrent.rate)}  p50=${f(concurrent.p50)}ms  p99=${f(concurrent.p99)}ms`,
);
console.log(
  `  $ per million transitions at list prices: DynamoDB ${f(dollars.dynamodb, 2)} + SQS ${f(dollars.sqs, 2)} + S3 ${f(dollars.s3, 2)} + Lambda ~${f(dollars.lambda, 2)} = ~$${f(total, 2)} (Step Functions Standard: $${f(PRICES.stepFunctions.transition * 1e6, 2)}; prices ${PRICES.region}, ${PRICES.date})`,
);

// The peers live in their own package (bench/peers/package.json), installed on first use.
const peers = root("bench/peers");
if (existsSync(`${peers}/package.json`) && !existsSync(`${peers}/node_modules`)) {
  console.log("installing the peers' packages into bench/peers (first run only)…");
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", peers], {
    encoding: "utf8",
  });
  if (install.status !== 0)
    console.log(`could not install the peers: ${install.stderr.trim().split("\n").at(-1) ?? ""}`);
}
for (const peer of ["bullmq", "dbos"]) {
  const script = root(`bench/peers/${peer}.ts`);
  if (!existsSync(script)) continue;
  const result = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 180_000 });
  process.stdout.write(result.stdout);
  if (result.status !== 0)
    console.log(
      `${peer}: exited ${result.status}: ${result.stderr.trim().split("\n").at(-1) ?? ""}`,
    );
}
