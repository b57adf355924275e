/**
 * The runtime end to end on the embedded emulators (dynalite, fauxqs) with the
 * same adapters, handlers and pollers as the local stack: the seed workflow,
 * large payloads, a 1,000-item Map, timers, events, cancellation and
 * dead-lettering.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { repoPath } from "../helpers.ts";

const ORDER_FILE = repoPath("examples", "order-processing", "workflows", "order-fulfillment.yaml");
const MB = 1024 * 1024;

const WORKFLOWS = [
  { file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") },
  {
    file: "big.yaml",
    source: `name: Big
states:
  - name: Fan
    type: Parallel
    branches:
${Array.from({ length: 50 }, (_, i) => `      - { name: Make${i}, type: Task, resource: "urn:cascade:activity:make", parameters: { i: ${i} }, result: $.r${i} }`).join("\n")}
    next: Measure
  - name: Measure
    type: Task
    result: $.sizes
    end: true
`,
  },
  {
    file: "many.yaml",
    source: `name: Many
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 50
    iterator:
      - { name: Square, type: Task, end: true }
    result: $.squares
    end: true
`,
  },
  {
    file: "waits.yaml",
    source: `name: Waits
states:
  - { name: Pause, type: Wait, duration: 1s, next: Await }
  - { name: Await, type: WaitForEvent, event: go, timeout: 30s, result: $.go, end: true }
`,
  },
];

const activities: Record<string, ActivityFunction> = {
  validate_order: (input: Record<string, JsonValue>) => ({ ...input, valid: true }),
  verify_identity: () => ({ verified: true }),
  check_credit: () => ({ approved: true }),
  check_inventory: () => ({ in_stock: true }),
  combine_results: () => ({ approved: true, reasons: [] }),
  make: (input: { i: number }) => `${input.i}:`.padEnd(MB, "x"),
  measure: (input: Record<string, JsonValue>) => {
    return {
      input: (input.blob as string).length,
      each: Array.from({ length: 50 }, (_, i) => (input[`r${i}`] as string).length).every(
        (n) => n === MB,
      ),
      labels: Array.from({ length: 50 }, (_, i) =>
        (input[`r${i}`] as string).startsWith(`${i}:`),
      ).every(Boolean),
    };
  },
  square: (input: { n: number }) => input.n * input.n,
};

let stack: LocalStack;
const errors: unknown[] = [];
before(async () => {
  stack = await startLocalStack({
    app: "e2e",
    ephemeral: true,
    workflows: WORKFLOWS,
    activities: new Map(Object.entries(activities)),
    concurrency: 8,
    runtime: { log: () => {} },
    onError: (error) => errors.push(error),
  });
});
after(async () => {
  await stack?.stop();
});

const dataOf = async (id: string) => {
  const record = await stack.waitFor(id, 60_000);
  return {
    record,
    data: (await stack.runtime.codec.load(record.thread.data)) as Record<string, JsonValue>,
  };
};

test("the seed order workflow completes on dynalite and fauxqs", async () => {
  await stack.runtime.startExecution(
    "OrderFulfillment",
    { customer_id: "c-1", cart_items: [{ id: "a", quantity: 1 }] },
    { id: "seed-1" },
  );
  const { record, data } = await dataOf("seed-1");
  assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  assert.deepEqual(data.decision, { approved: true, reasons: [] });
  // History is appended at the end of the invocation that ended the execution: give it a moment.
  let history = await stack.store.readHistory("default", "seed-1", 500);
  for (let i = 0; i < 50 && !history.items.some((e) => e.type === "ExecutionSucceeded"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    history = await stack.store.readHistory("default", "seed-1", 500);
  }
  assert.equal(history.items[0]?.type, "ExecutionStarted");
  assert.ok(history.items.some((e) => e.type === "ExecutionSucceeded"));
  const listed = await stack.store.listExecutions(
    { tenant: "default", app: "e2e", workflow: "OrderFulfillment" },
    10,
  );
  assert.ok(
    listed.items.some((i) => i.header.executionId === "seed-1" && i.thread.status === "succeeded"),
  );
});

test("a 5 MB input and 50 branches returning 1 MB each complete; items and messages stay small", async () => {
  await stack.runtime.startExecution("Big", { blob: "y".repeat(5 * MB) }, { id: "big-1" });
  const { record, data } = await dataOf("big-1");
  assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  assert.deepEqual(data.sizes, { input: 5 * MB, each: true, labels: true });
  assert.ok("ref" in record.thread.data, "the final data lives in the payload bucket");
  assert.ok(
    JSON.stringify(record).length < 100 * 1024,
    `the execution item is ${JSON.stringify(record).length} bytes`,
  );
});

test("a Map over 1,000 items with max_concurrency 50 completes with results in order", async () => {
  const items = Array.from({ length: 1000 }, (_, n) => ({ n }));
  await stack.runtime.startExecution("Many", { items }, { id: "many-1" });
  const { record, data } = await dataOf("many-1");
  assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  assert.deepEqual(
    data.squares,
    items.map(({ n }) => n * n),
  );
});

test("timers, early events and cancellation on the real queues", async () => {
  await stack.runtime.startExecution("Waits", {}, { id: "wait-1" });
  assert.equal(
    await stack.runtime.signal("default", "wait-1", "go", { ok: 1 }),
    true,
    "an event sent during the Wait is kept",
  );
  const started = Date.now();
  const { record, data } = await dataOf("wait-1");
  assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  assert.deepEqual(data.go, { ok: 1 });
  assert.ok(Date.now() - started >= 500, "the Wait waited");

  await stack.runtime.startExecution("Waits", {}, { id: "wait-2" });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.deepEqual(await stack.runtime.cancel("default", "wait-2", "test"), {
    outcome: "cancelled",
  });
  assert.equal((await stack.waitFor("wait-2")).thread.status, "cancelled");
});

test("no handler failed, apart from lost write races that redelivery retries", () => {
  const unexpected = errors.filter(
    (e) => !(e instanceof Error && e.name === "RuntimeError" && /kept changing/.test(e.message)),
  );
  assert.deepEqual(unexpected.map(String), []);
});
