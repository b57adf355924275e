/**
 * Fault injection: hundreds of seeded runs of the seed order workflow and of a
 * wide Parallel + Map workflow, with crashes at every point between read,
 * commit and send (before and after each store write, each send, each delete),
 * duplicated deliveries and reordering. Every execution must end exactly once
 * with the output of a calm run; every attempt keeps one idempotency key; no
 * message is left in flight. FUZZ_RUNS runs more (npm run fuzz).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { repoPath, runs } from "../helpers.ts";
import { type Chaos, Crash, memoryStack } from "../support/memory-stack.ts";

const ORDER_FILE = repoPath("examples", "order-processing", "workflows", "order-fulfillment.yaml");
const WIDE = `name: Wide
states:
  - name: Fan
    type: Parallel
    branches:
${Array.from({ length: 8 }, (_, i) => `      - { name: B${i}, type: Task, resource: "urn:cascade:activity:score", parameters: { b: ${i}, v: "{{ $.v }}" }, result: $.b${i} }`).join("\n")}
    next: Each
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 5
    iterator:
      - { name: Flaky, type: Task, retry: { errors: [Flaky], max_attempts: 3, interval: 10ms }, next: Double }
      - { name: Double, type: Pass, value: "{{ $.n * 2 }}", end: true }
    result: $.doubled
    end: true
`;

interface Call {
  key: string;
  input: string;
}

function activities(calls: Call[]): Record<string, ActivityFunction> {
  const record =
    (fn: (input: never, attempt: number) => unknown): ActivityFunction =>
    (input, context) => {
      calls.push({ key: context.idempotencyKey, input: JSON.stringify(input) });
      return fn(input, context.attempt);
    };
  return {
    validate_order: record((input: Record<string, JsonValue>) => ({ ...input, valid: true })),
    verify_identity: record(() => ({ verified: true })),
    check_credit: record(() => ({ approved: true })),
    check_inventory: record((input: { product_ids: string[] }) => ({
      in_stock: true,
      n: input.product_ids.length,
    })),
    combine_results: record((input: Record<string, JsonValue>) => ({
      approved: true,
      seen: Object.keys(input).sort(),
    })),
    score: record((input: { b: number; v: number }) => input.b * 10 + input.v),
    flaky: record((input: { n: number }, attempt: number) => {
      if (attempt === 1 && input.n % 3 === 0)
        throw Object.assign(new Error("first attempt fails"), { name: "Flaky" });
      return { n: input.n };
    }),
  };
}

const SHAPES = `name: Shapes
states:
  - { name: A, type: Task, resource: "urn:cascade:activity:score", parameters: { b: 1, v: 2 }, result: $.a, next: P }
  - name: P
    type: Parallel
    branches:
      - { name: X, type: Pass, value: x, result: $.x }
      - { name: Y, type: Pass, value: y, result: $.y }
    next: W
  - { name: W, type: WaitForEvent, event: go, result: $.go, next: B }
  - { name: B, type: Task, resource: "urn:cascade:activity:score", parameters: { b: 2, v: 3 }, result: $.b, end: true }
`;

async function retry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof Crash) || attempt >= 50) throw error;
    }
  }
}

async function runOnce(
  workflow: { file: string; source: string; name: string; signal?: string },
  input: JsonValue,
  chaos?: Chaos,
  batches = false,
) {
  const calls: Call[] = [];
  const stack = memoryStack({
    workflows: [workflow],
    activities: activities(calls),
    ...(chaos ? { chaos } : {}),
    batches,
  });
  let started = false;
  for (let attempt = 0; attempt < 50 && !started; attempt++) {
    try {
      await stack.runtime.startExecution(workflow.name, input, { id: "x-1" });
      started = true;
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
    }
  }
  assert.ok(started, "the start call succeeds within 50 tries");
  const signal = workflow.signal;
  if (signal)
    await retry(() => stack.runtime.signal("default", "x-1", signal, { ok: true }, "sig-1"));
  await stack.drain();
  const record = await stack.execution("x-1");
  const output = record ? await stack.runtime.codec.load(record.thread.data) : undefined;
  return { stack, record, output, calls };
}

const cases: {
  workflow: { file: string; source: string; name: string; signal?: string };
  input: JsonValue;
  seeds: number;
}[] = [
  // Inline follow-ups on one record (a Parallel of Pass states) and an event sent before its state.
  {
    workflow: { file: "shapes.yaml", source: SHAPES, name: "Shapes", signal: "go" },
    input: {},
    seeds: 200,
  },
  {
    workflow: {
      file: ORDER_FILE,
      source: readFileSync(ORDER_FILE, "utf8"),
      name: "OrderFulfillment",
    },
    input: {
      customer_id: "c-7",
      cart_items: [
        { id: "a", quantity: 1 },
        { id: "b", quantity: 2 },
      ],
    },
    seeds: 200,
  },
  {
    workflow: { file: "wide.yaml", source: WIDE, name: "Wide" },
    input: { v: 3, items: Array.from({ length: 20 }, (_, n) => ({ n })) },
    seeds: 80,
  },
];

for (const { workflow, input, seeds } of cases) {
  test(`fault injection: ${workflow.name} ends exactly once with the calm output under crashes, duplicates and reordering`, async () => {
    const calm = await runOnce(workflow, input);
    assert.equal(
      calm.record?.thread.status,
      "succeeded",
      JSON.stringify(calm.record?.thread.error),
    );
    const total = runs(seeds);
    let crashes = 0;
    for (let seed = 1; seed <= total; seed++) {
      const chaos: Chaos = { seed, crash: 0.08, duplicate: 0.15, jitterMs: 40 };
      // Odd seeds deliver message by message; even seeds whole batches through processBatch
      // (a batch's join reports applied in one write), as the Lambda handlers do.
      const run = await runOnce(workflow, input, chaos, seed % 2 === 0);
      crashes += run.stack.crashes.injected;
      const where = `seed ${seed} (${seed % 2 === 0 ? "batches" : "one by one"})`;
      assert.equal(
        run.record?.thread.status,
        "succeeded",
        `${where}: ${JSON.stringify(run.record?.thread.error)}`,
      );
      assert.deepEqual(run.output, calm.output, `${where}: same output as the calm run`);
      assert.equal(run.stack.store.calls.endings, 1, `${where}: the execution ended exactly once`);
      assert.equal(run.stack.queues.pending(), 0, `${where}: no message left in flight`);
      assert.equal(
        run.stack.queues.queue("transitions").dead.length,
        0,
        `${where}: nothing dead-lettered`,
      );
      const inputsByKey = new Map<string, string>();
      for (const call of run.calls) {
        assert.match(call.key, /^a_[A-Za-z0-9_-]{43}$/, "an attempt's key has a fixed length");
        const seen = inputsByKey.get(call.key);
        if (seen !== undefined)
          assert.equal(call.input, seen, `${where}: a redelivered attempt is the same attempt`);
        inputsByKey.set(call.key, call.input);
      }
      const calmKeys = new Set(calm.calls.map((c) => c.key));
      assert.deepEqual(
        new Set(inputsByKey.keys()),
        calmKeys,
        `${where}: the same attempts as the calm run, by key`,
      );
    }
    assert.ok(crashes > total, `crashes were injected (${crashes} in ${total} runs)`);
  });
}
