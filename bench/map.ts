/**
 * Map benchmark on the embedded emulators (dynalite, fauxqs): one Map of a trivial Task
 * over N items, through the same adapters, handlers and pollers as `cascade dev`.
 *
 * Prints, per width: items per second, DynamoDB write units per item, the write units of
 * one report to the join (to show whether it grows with N), SQS and S3 requests per item,
 * and dollars per million items at public on-demand prices beside Step Functions'
 * Standard price for the same Map. A width that does not finish within its time limit,
 * or fails, is printed with the reason.
 *
 *   npm run bench:map                  # widths 1000 and 10000
 *   node bench/map.ts 1000 10000 100000
 *   MAP_TIME_LIMIT_S=300 MAP_CONCURRENCY=1000 node bench/map.ts 10000
 */

import { dynamoItemBytes } from "../lib/adapters/memory/limits.ts";
import type { ExecutionStore, ThreadRecord } from "../lib/core/ports.ts";
import { PRICES } from "../lib/core/prices.ts";
import { startLocalStack } from "../lib/local/stack.ts";

const widths = process.argv.slice(2).map(Number);
if (widths.length === 0) widths.push(1_000, 10_000);
const timeLimitMs = Number(process.env.MAP_TIME_LIMIT_S ?? 240) * 1000;
const maxConcurrency = Number(process.env.MAP_CONCURRENCY ?? 0);
/** Pollers of the engine queue, as `cascade dev --concurrency` (default here 32; cascade dev defaults to 16). */
const POLLERS = Number(process.env.MAP_POLLERS ?? 32);

const source = `name: Wide
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
${maxConcurrency > 0 ? `    max_concurrency: ${maxConcurrency}\n` : ""}    iterator:
      - { name: Double, type: Task, resource: "urn:cascade:activity:double", end: true }
    result: $.out
    end: true
`;

type Counts = {
  writes: number;
  wcu: number;
  reads: number;
  rcu: number;
  joinWrites: number;
  joinWcu: number;
  sqs: number;
  s3: number;
  sends: number;
};
const fresh = (): Counts => ({
  writes: 0,
  wcu: 0,
  reads: 0,
  rcu: 0,
  joinWrites: 0,
  joinWcu: 0,
  sqs: 0,
  s3: 0,
  sends: 0,
});
let counts = fresh();
const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? {}));
/** An item's size as DynamoDB bills it (names plus values; lib/adapters/memory/limits.ts). */
const itemBytes = (item: unknown): number =>
  dynamoItemBytes(plain((item ?? {}) as Record<string, unknown>) as Record<string, unknown>);
function plain(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const v = value as Record<string, unknown>;
  if ("S" in v) return v.S;
  if ("N" in v) return Number(v.N);
  if ("NS" in v) return (v.NS as string[]).map(Number);
  if ("SS" in v) return v.SS;
  if ("BOOL" in v) return v.BOOL;
  if ("NULL" in v) return null;
  if ("L" in v) return (v.L as unknown[]).map(plain);
  if ("M" in v) return plain(v.M);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

const done = new Map<string, (record: ThreadRecord) => void>();
const wrapStore = (store: ExecutionStore): ExecutionStore =>
  new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === "putThread") {
        return async (record: ThreadRecord, expected: number, expiresAt?: number) => {
          const ok = await value.call(target, record, expected, expiresAt);
          if (ok && record.thread.id === "root" && record.thread.status !== "running")
            done.get(record.header.executionId)?.(record);
          return ok;
        };
      }
      return value.bind(target);
    },
  });

const stack = await startLocalStack({
  app: "bench-map",
  ephemeral: true,
  workflows: [{ file: "wide.yaml", source }],
  activities: new Map([["double", (n: number) => n * 2]]),
  concurrency: POLLERS,
  runtime: { log: () => {} },
  wrapStore,
  onError: (error) => console.error("handler error:", error),
});

type Observable = {
  observe: (
    f: (op: string, i: Record<string, unknown>, o: Record<string, unknown>) => void,
  ) => void;
};
(stack.clients.lean.dynamodb as Observable).observe((operation, input, output) => {
  if (operation === "PutItem") {
    const units = Math.max(1, Math.ceil(itemBytes(input.Item) / 1024));
    counts.writes++;
    counts.wcu += units;
    const key = (input.Item as Record<string, { S?: string }> | undefined)?.sk?.S ?? "";
    if (key.startsWith("J")) {
      counts.joinWrites++;
      counts.joinWcu += units;
    }
  } else if (operation === "UpdateItem") {
    // Billed on the larger of the item before and after: about its old attributes
    // (ALL_OLD or ALL_NEW, as the runtime asks) plus what the update adds.
    const units = Math.max(
      1,
      Math.ceil((itemBytes(output.Attributes) + itemBytes(input.ExpressionAttributeValues)) / 1024),
    );
    counts.writes++;
    counts.wcu += units;
    const key = (input.Key as Record<string, { S?: string }> | undefined)?.sk?.S ?? "";
    if (key.startsWith("J")) {
      counts.joinWrites++;
      counts.joinWcu += units;
    }
  } else if (operation === "GetItem" || operation === "Query") {
    counts.reads++;
    counts.rcu += Math.max(1, Math.ceil(size(output.Item ?? output.Items) / 4096));
  } else if (operation === "BatchGetItem") {
    counts.reads++;
    const responses = Object.values(
      (output.Responses ?? {}) as Record<string, Record<string, unknown>[]>,
    ).flat();
    for (const item of responses) counts.rcu += Math.max(1, Math.ceil(size(item) / 4096));
  }
});
(stack.clients.lean.sqs as Observable).observe((operation) => {
  counts.sqs++;
  if (operation === "SendMessageBatch") counts.sends++;
});

type Middlewared = {
  middlewareStack: {
    add: (
      m: (next: (a: unknown) => Promise<unknown>) => (a: unknown) => Promise<unknown>,
      o: { step: "initialize"; name: string },
    ) => void;
  };
};
for (const client of [stack.clients.dynamodb, stack.clients.s3, stack.clients.sqs]) {
  (client as unknown as Middlewared).middlewareStack.add(
    (next) => async (args) => {
      if (client === stack.clients.s3) counts.s3++;
      return next(args);
    },
    { step: "initialize", name: "count-bench-map" },
  );
}

const f = (n: number, digits = 1) => n.toFixed(digits);
console.log(
  `cascade Map: one Task per item on dynalite + fauxqs (in-process, ${POLLERS} pollers), max_concurrency ${maxConcurrency || "none"}`,
);
let seq = 0;
for (const width of widths) {
  const id = `map-${++seq}`;
  const items = Array.from({ length: width }, (_, n) => n);
  counts = fresh();
  const finished = new Promise<ThreadRecord | "timeout">((resolve) => {
    done.set(id, resolve);
    setTimeout(() => resolve("timeout"), timeLimitMs).unref();
  });
  const started = performance.now();
  let outcome: ThreadRecord | "timeout" | Error;
  try {
    await stack.runtime.startExecution("Wide", { items }, { id });
    outcome = await finished;
  } catch (error) {
    outcome = error instanceof Error ? error : new Error(String(error));
  }
  const seconds = (performance.now() - started) / 1000;
  if (outcome === "timeout" || outcome instanceof Error || outcome.thread.status !== "succeeded") {
    const why =
      outcome === "timeout"
        ? `did not finish in ${f(timeLimitMs / 1000, 0)} s`
        : outcome instanceof Error
          ? `${outcome.name}: ${outcome.message.slice(0, 200)}`
          : `${outcome.thread.status}: ${outcome.thread.error?.name} ${outcome.thread.error?.message.slice(0, 200)}`;
    console.log(
      `  N=${width}: ${why} (after ${f(seconds)} s: ${counts.joinWrites} join writes, ${f(counts.joinWcu / Math.max(1, counts.joinWrites))} WCU each)`,
    );
    continue;
  }
  // List prices from the one table (lib/core/prices.ts), per million items. Lambda assumed:
  // one invocation per send batch, 512 MB, 30 ms. Step Functions Standard: 2 transitions
  // per item (the item's Task, its end).
  const perItem = (n: number) => n / width;
  const million = 1e6;
  const dollars =
    million *
    (perItem(counts.wcu) * PRICES.dynamodb.writeUnit +
      perItem(counts.rcu) * PRICES.dynamodb.readUnit +
      perItem(counts.sqs) * PRICES.sqs.request +
      perItem(counts.s3) * PRICES.s3.put +
      perItem(counts.sends) * (PRICES.lambda.invocation + 0.5 * 0.03 * PRICES.lambda.gbSecond));
  const stepFunctions = million * 2 * PRICES.stepFunctions.transition;
  console.log(
    `  N=${width}: ${f(width / seconds, 0)} items/s (${f(seconds)} s); per item: DynamoDB ${f(perItem(counts.writes), 2)} writes (${f(perItem(counts.wcu), 2)} WCU), ${f(perItem(counts.reads), 2)} reads; SQS ${f(perItem(counts.sqs), 2)}; S3 ${f(perItem(counts.s3), 3)}; the join: ${f(perItem(counts.joinWcu), 2)} WCU per report (${counts.joinWrites} join writes, ${f(counts.joinWcu / Math.max(1, counts.joinWrites))} WCU each); ~$${f(dollars, 2)} per million items (Step Functions Standard: $${f(stepFunctions, 2)})`,
  );
}
await stack.stop();
