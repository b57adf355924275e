/**
 * Wide joins (DESIGN.md section 9) on the memory adapters, which enforce DynamoDB's
 * item limit: a Map's join keeps no per-item data, each report costs a bounded write,
 * max_concurrency holds, the fan-in pages keep the outputs in order, and a failure past
 * the tolerance or a cancel stops what still runs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WIDE_JOIN_SHARD } from "../../lib/runtime/wide-joins.ts";
import { memoryStack } from "../support/memory-stack.ts";

const mapOf = (name: string, extra = "", iterator = "") => ({
  file: `${name}.yaml`,
  source: `name: ${name}
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
${extra}
    iterator:
${iterator || '      - { name: Work, type: Task, resource: "urn:cascade:activity:work", end: true }'}
    result: $.out
    end: true
`,
});

test("a 3,000-item Map on a wide join: outputs in order, no item holds per-item data, each report one bounded write", {
  timeout: 120_000,
}, async () => {
  const stack = memoryStack({
    workflows: [mapOf("Wide")],
    activities: { work: (n: number) => n * 2 },
    batches: true,
  });
  const items = Array.from({ length: 3_000 }, (_, n) => n);
  await stack.runtime.startExecution("Wide", { items }, { id: "w-1" });
  await stack.drain();
  const done = await stack.execution("w-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  const out = ((await stack.runtime.codec.load(done.thread.data)) as { out: number[] }).out;
  assert.deepEqual(
    out,
    items.map((n) => n * 2),
  );
  const join = await stack.store.getJoin(done.header, "root/Each@1");
  assert.ok(join?.wide, "the join is wide");
  assert.deepEqual([join.join.succeeded.length, join.join.failed.length], [0, 0]);
  assert.ok(JSON.stringify(join).length < 4_000, `join record ${JSON.stringify(join).length} B`);
  assert.equal(stack.store.shards.size, 3_000 / WIDE_JOIN_SHARD);
  // Every item is counted in a shard whose item stays under one write unit (1 KB).
  assert.ok(
    stack.store.calls.largestItemBytes < 400_000,
    `largest item ${stack.store.calls.largestItemBytes} B`,
  );
});

test("max_concurrency on a wide join: never more than C items run at once, item i's end starts item i + C", {
  timeout: 120_000,
}, async () => {
  let running = 0;
  let most = 0;
  const stack = memoryStack({
    workflows: [mapOf("Bounded", "    max_concurrency: 7")],
    activities: {
      work: async (n: number) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return n;
      },
    },
    batches: true,
  });
  const items = Array.from({ length: 400 }, (_, n) => n);
  await stack.runtime.startExecution("Bounded", { items }, { id: "b-1" });
  await stack.drain();
  const done = await stack.execution("b-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  assert.deepEqual(
    ((await stack.runtime.codec.load(done.thread.data)) as { out: number[] }).out,
    items,
  );
  assert.ok(most <= 7, `${most} ran at once`);
  assert.ok(most >= 2, `${most} ran at once: the Map ran items in parallel`);
});

test("a wide Map fails past its tolerance and stops its remaining items; within it, it succeeds with nulls", {
  timeout: 120_000,
}, async () => {
  let runs = 0;
  const stack = memoryStack({
    workflows: [
      mapOf("Strict", "    tolerated_failures: 3\n    max_concurrency: 20"),
      mapOf("Lenient", "    tolerated_failure_percentage: 10"),
    ],
    activities: {
      work: (n: number) => {
        runs++;
        if (n % 50 === 7)
          throw Object.assign(new Error(`item ${n}`), { name: "Broken", retryable: false });
        return n;
      },
    },
    batches: true,
  });
  const items = Array.from({ length: 1_000 }, (_, n) => n);
  await stack.runtime.startExecution("Strict", { items }, { id: "strict" });
  await stack.drain();
  const failed = await stack.execution("strict");
  assert.equal(failed?.thread.status, "failed");
  assert.equal(failed?.thread.error?.name, "Cascade.BranchFailed");
  assert.match(failed?.thread.error?.message ?? "", /item \d+ of 'Each' failed with Broken/);
  // The 4th failure is item 157; with 20 in flight, few items past it ever ran.
  assert.ok(runs < 300, `${runs} items ran after the Map failed at item 157`);

  await stack.runtime.startExecution("Lenient", { items }, { id: "lenient" });
  await stack.drain();
  const lenient = await stack.execution("lenient");
  assert.equal(lenient?.thread.status, "succeeded", JSON.stringify(lenient?.thread.error));
  assert.ok(lenient);
  const out = ((await stack.runtime.codec.load(lenient.thread.data)) as { out: unknown[] }).out;
  assert.deepEqual(
    out,
    items.map((n) => (n % 50 === 7 ? null : n)),
  );
});

test("a 2,000-item wide Map cancelled halfway: every remaining item stops, none starts after the cancel", {
  timeout: 120_000,
}, async () => {
  let started = 0;
  let startedAfterCancel = 0;
  let cancelled = false;
  const stack = memoryStack({
    workflows: [
      mapOf(
        "Long",
        "    max_concurrency: 50",
        `      - { name: Work, type: Task, resource: "urn:cascade:activity:work", next: Hold }
      - { name: Hold, type: Wait, duration: 60s, end: true }`,
      ),
    ],
    activities: {
      work: (n: number) => {
        started++;
        if (cancelled) startedAfterCancel++;
        return n;
      },
    },
    batches: true,
  });
  const items = Array.from({ length: 2_000 }, (_, n) => n);
  await stack.runtime.startExecution("Long", { items }, { id: "c-1" });
  // Run until about half the items have started (each waits a minute after its Task).
  for (let round = 0; started < 1_000 && round < 200; round++) {
    await stack.drain(500);
    stack.advance(60_000);
  }
  assert.ok(started >= 1_000, `${started} started`);
  cancelled = true;
  assert.deepEqual(await stack.runtime.cancel("default", "c-1", "stop"), { outcome: "cancelled" });
  for (let round = 0; round < 20; round++) {
    await stack.drain();
    stack.advance(60_000);
  }
  assert.equal((await stack.execution("c-1"))?.thread.status, "cancelled");
  assert.equal(startedAfterCancel, 0);
  assert.ok(started < 1_200, `${started} items started`);
  const threads = await stack.store.joinThreads(
    (await stack.execution("c-1"))?.header ?? ({} as never),
    "root/Each@1",
  );
  assert.deepEqual(
    threads.filter((t) => t.thread.status === "running").map((t) => t.thread.id),
    [],
    "no item is left running",
  );
  assert.equal(stack.queues.queue("transitions").dead.length, 0);
});

test("nested: a Parallel inside a Map inside a wide Map (both Maps wide); no nested record holds the items", {
  timeout: 120_000,
}, async () => {
  const source = `name: Nested
states:
  - name: Outer
    type: Map
    items: "{{ $.rows }}"
    iterator:
      - name: Inner
        type: Map
        items: "{{ $.cells }}"
        iterator:
          - name: Both
            type: Parallel
            branches:
              - { name: Left, type: Task, resource: "urn:cascade:activity:left", end: true }
              - { name: Right, type: Task, resource: "urn:cascade:activity:right", end: true }
            result: $
            end: true
        end: true
    result: $.out
    end: true
`;
  const stack = memoryStack({
    workflows: [{ file: "nested.yaml", source }],
    activities: { left: (n: number) => n, right: (n: number) => 1000 - n },
    batches: true,
    // Every Map of 2 or more items is wide here, the inner ones too.
    wideJoinFrom: 2,
  });
  const rows = Array.from({ length: 120 }, (_, r) => ({ cells: [r * 10, r * 10 + 1] }));
  await stack.runtime.startExecution("Nested", { rows }, { id: "n-1" });
  await stack.drain();
  const done = await stack.execution("n-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  const out = ((await stack.runtime.codec.load(done.thread.data)) as { out: unknown }).out;
  assert.deepEqual(
    out,
    rows.map((row) => row.cells.map((n) => [n, 1000 - n])),
  );
  // The outer items (the whole `rows`) are in no record below the outer Map's join.
  const marker = JSON.stringify(rows.slice(0, 3));
  for (const log of stack.store.logs.values())
    for (const step of log)
      if (step.thread.id !== "root")
        assert.ok(!JSON.stringify(step).includes(marker), `${step.thread.id} holds the items`);
});

test("a 10,000-item wide Map whose iterator starts with a Wait completes in order", {
  timeout: 300_000,
}, async () => {
  const stack = memoryStack({
    workflows: [
      mapOf(
        "Waits",
        "",
        `      - { name: Pause, type: Wait, duration: 1s, next: Work }
      - { name: Work, type: Task, resource: "urn:cascade:activity:work", end: true }`,
      ),
    ],
    activities: { work: (n: number) => n + 1 },
    batches: true,
  });
  const items = Array.from({ length: 10_000 }, (_, n) => n);
  await stack.runtime.startExecution("Waits", { items }, { id: "wait-1" });
  for (let round = 0; round < 10; round++) {
    await stack.drain(1_000_000);
    stack.advance(1_000);
  }
  const done = await stack.execution("wait-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  assert.deepEqual(
    ((await stack.runtime.codec.load(done.thread.data)) as { out: number[] }).out,
    items.map((n) => n + 1),
  );
  assert.ok(
    stack.store.calls.largestItemBytes < 400_000,
    `largest item ${stack.store.calls.largestItemBytes} B`,
  );
});
