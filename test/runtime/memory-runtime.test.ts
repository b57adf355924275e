/** The runtime end to end on in-memory adapters: the seed workflow, payload offload, pinning, signals, cancellation, DLQ. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { MemoryResultCache } from "../../lib/adapters/memory/cache.ts";
import { METRIC_NAMES } from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { METRICS } from "../../lib/manifest/index.ts";
import { processBatch } from "../../lib/runtime/batch.ts";
import { repoPath } from "../helpers.ts";
import { memoryStack } from "../support/memory-stack.ts";

const ORDER_FILE = repoPath("examples", "order-processing", "workflows", "order-fulfillment.yaml");
const order = { customer_id: "c-42", cart_items: [{ id: "sku-1", quantity: 2, price: 30 }] };
const activities = {
  validate_order: (input: typeof order) => ({ ...input, valid: true }),
  verify_identity: () => ({ verified: true }),
  check_credit: () => ({ approved: true }),
  check_inventory: (input: { product_ids: string[]; shard: string }) => ({
    in_stock: true,
    checked: input.product_ids.length,
    shard: input.shard,
  }),
  combine_results: () => ({ approved: true, reasons: [] }),
};

test("the seed order workflow runs to the right output, with history and three hops", async () => {
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities,
  });
  const started = await stack.runtime.startExecution("OrderFulfillment", order, { id: "order-1" });
  assert.equal(started.created, true);
  const { deliveries } = await stack.drain();
  const record = await stack.execution("order-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  const data =
    record && "inline" in record.thread.data
      ? (record.thread.data.inline as Record<string, JsonValue>)
      : {};
  assert.deepEqual(data.decision, { approved: true, reasons: [] });
  assert.deepEqual(data.identity, { verified: true });
  assert.deepEqual(data.inventory, { in_stock: true, checked: 1, shard: "shard-9" });
  // Five activities, five run messages; branch starts, joins and control flow run inline.
  // The workflow's 1h timeout is a timer sent on every 15 minutes while it is still wanted:
  // the execution ended in well under 15 minutes, so its first hop drops it (1 delivery, not 4).
  const kinds = stack.queues.sent.map((m) => m.body.kind);
  assert.equal(kinds.filter((k) => k === "run").length, 5);
  assert.equal(kinds.filter((k) => k === "event").length, 1);
  assert.equal(kinds.length, 6);
  assert.equal(deliveries, 6);
  const history = await stack.store.readHistory("default", "order-1", 1000);
  assert.equal(history.items[0]?.type, "ExecutionStarted");
  const root = history.items.filter((e) => e.thread === "root");
  assert.equal(root.at(-1)?.type, "ExecutionSucceeded");
  assert.deepEqual(
    root.map((e) => e.seq),
    root.map((_, i) => i),
    "a thread's events read in the order they happened",
  );
  assert.equal(history.items.filter((e) => e.type === "BranchFinished").length, 3);
  const threads = new Set(history.items.map((e) => e.thread));
  assert.equal(threads.size, 4, "the root and the three branches");
  for (const thread of threads) {
    const seqs = history.items.filter((e) => e.thread === thread).map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i),
      `${thread}: every event from its start, once, in order (a lazy branch's start included)`,
    );
  }
  assert.equal(stack.queues.pending(), 0, "no message left in flight");
  // Every step and join expires (TTL): nothing is kept forever.
  const steps = [...stack.store.logs.values()].flat().length;
  const stepExpiries = [...stack.store.expiries.keys()].filter((k) =>
    /^\d+$/.test(k.split("\u0000").at(-1) ?? ""),
  );
  assert.equal(stepExpiries.length, steps, "every step carries an expiry");
  for (const key of stack.store.joins.keys())
    assert.ok(stack.store.expiries.has(key), "every join carries an expiry");

  const again = await stack.runtime.startExecution("OrderFulfillment", order, { id: "order-1" });
  assert.equal(again.created, false, "starting with the same id is idempotent");
});

test("large payloads go to the payload store; items and messages carry references", async () => {
  const source = `name: Big
states:
  - name: Fan
    type: Parallel
    branches:
      - { name: MakeA, type: Task, resource: "urn:cascade:activity:make", result: $.a }
      - { name: MakeB, type: Task, resource: "urn:cascade:activity:make", result: $.b }
    next: Measure
  - name: Measure
    type: Task
    result: $.sizes
    end: true
`;
  const big = "x".repeat(300_000);
  const stack = memoryStack({
    workflows: [{ file: "big.yaml", source }],
    activities: {
      make: () => ({ blob: big }),
      measure: (input: { a: { blob: string }; b: { blob: string }; input: string }) => [
        input.a.blob.length,
        input.b.blob.length,
        input.input.length,
      ],
    },
  });
  await stack.runtime.startExecution("Big", { input: "y".repeat(1_000_000) }, { id: "big-1" });
  await stack.drain();
  const record = await stack.execution("big-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  assert.ok(record && "ref" in record.thread.data, "the final data is referenced, not inline");
  const data = (await stack.runtime.codec.load(record.thread.data)) as { sizes: number[] };
  assert.deepEqual(data.sizes, [300_000, 300_000, 1_000_000]);
  for (const message of stack.queues.sent) {
    assert.ok(
      JSON.stringify(message).length < 64 * 1024,
      `a ${message.body.kind} message is ${JSON.stringify(message).length} bytes`,
    );
  }
  const steps = [...stack.store.logs.values()].flat();
  for (const item of steps) {
    assert.ok(JSON.stringify(item).length < 64 * 1024, "step items stay small");
  }
  assert.ok(stack.payloads.objects.size >= 3);
  for (const step of steps) {
    for (const event of step.events) {
      const size = JSON.stringify(event).length;
      assert.ok(
        size < 16 * 1024,
        `a ${event.type} history event of ${size} bytes: inputs and outputs over 8 KB are referenced`,
      );
    }
  }
});

test("a running execution keeps its definition when the workflow changes", async () => {
  const version = (said: string) => `name: Pinned
states:
  - { name: Pause, type: Wait, duration: 1m, next: Say }
  - { name: Say, type: Pass, value: ${said}, result: $.said, end: true }
`;
  const stack = memoryStack({
    workflows: [{ file: "pinned.yaml", source: version("v1") }],
    activities: {},
  });
  await stack.runtime.startExecution("Pinned", {}, { id: "old" });
  stack.definitions.register(version("v2"), "pinned.yaml");
  await stack.runtime.startExecution("Pinned", {}, { id: "new" });
  await stack.drain();
  const said = async (id: string) => {
    const record = await stack.execution(id);
    return record && "inline" in record.thread.data ? record.thread.data.inline : undefined;
  };
  assert.deepEqual(await said("old"), { said: "v1" });
  assert.deepEqual(await said("new"), { said: "v2" });
  assert.equal(stack.store.definitions.size, 2, "both versions are stored by hash");
});

test("signals: an event sent early is kept; cancellation stops everything once", async () => {
  const source = `name: Approve
states:
  - { name: Work, type: Task, resource: "urn:cascade:activity:slow", result: $.work, next: Await }
  - { name: Await, type: WaitForEvent, event: approval, result: $.approval, end: true }
`;
  const stack = memoryStack({
    workflows: [{ file: "a.yaml", source }],
    activities: { slow: () => "done" },
  });
  await stack.runtime.startExecution("Approve", {}, { id: "s-1" });
  assert.equal(await stack.runtime.signal("default", "s-1", "approval", { by: "ada" }), true);
  await stack.drain();
  const record = await stack.execution("s-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread));
  assert.deepEqual(record && "inline" in record.thread.data ? record.thread.data.inline : null, {
    work: "done",
    approval: { by: "ada" },
  });
  assert.equal(
    await stack.runtime.signal("default", "s-1", "approval", {}),
    false,
    "an ended execution takes no events",
  );

  await stack.runtime.startExecution("Approve", {}, { id: "s-2" });
  await stack.drain();
  assert.deepEqual(await stack.runtime.cancel("default", "s-2", "changed my mind"), {
    outcome: "cancelled",
  });
  await stack.drain();
  assert.equal((await stack.execution("s-2"))?.thread.status, "cancelled");
  assert.deepEqual(
    await stack.runtime.cancel("default", "s-2", "again"),
    { outcome: "cancelled" },
    "a retried cancel says it took effect (and re-sends what it caused)",
  );
  await stack.runtime.startExecution("Approve", {}, { id: "s-3" });
  await stack.runtime.signal("default", "s-3", "approval", {});
  await stack.drain();
  assert.deepEqual(
    await stack.runtime.cancel("default", "s-3", "too late"),
    { outcome: "ended", status: "succeeded" },
    "a cancel after the end says so, with the status the execution ended in",
  );
});

test("a poison message is dead-lettered and fails only what it concerns, through the workflow's catch", async () => {
  const source = `name: Poison
states:
  - { name: Hold, type: WaitForEvent, event: never, end: true }
`;
  const stack = memoryStack({ workflows: [{ file: "p.yaml", source }], activities: {} });
  const { record } = await stack.runtime.startExecution("Poison", {}, { id: "p-1" });
  await stack.drain();
  // Messages for a thread and a join that do not exist fail every time they are delivered.
  await stack.queues.send(
    [
      {
        mid: "bogus",
        queue: "transitions",
        body: {
          kind: "finished",
          header: record.header,
          joinId: "root/Nope@1",
          index: 0,
          status: "succeeded",
        },
      },
    ],
    stack.clock.now(),
  );
  const { failures } = await stack.drain();
  assert.ok(
    failures >= 50,
    `the message was retried until its receive limit (${failures} failures)`,
  );
  const after = await stack.execution("p-1");
  assert.equal(
    after?.thread.status,
    "running",
    "a dead letter about a join that does not exist does not fail the healthy root",
  );

  // A Task whose run keeps failing (its input cannot be read): the dead letter fails that
  // attempt, and the Task's own catch takes it.
  const task = `name: Fragile
states:
  - name: Job
    type: Task
    resource: urn:cascade:activity:job
    catch:
      - { errors: [Cascade.RuntimeFailure], result: $.failure, next: Recovered }
    end: true
  - { name: Recovered, type: Pass, value: recovered, result: $.outcome, end: true }
`;
  const fragile = memoryStack({
    workflows: [{ file: "f.yaml", source: task }],
    activities: { job: () => "ran" },
  });
  await fragile.runtime.startExecution("Fragile", {}, { id: "f-1" });
  const transitions = fragile.queues.queue("transitions");
  const [run] = await transitions.receive(10);
  assert.equal(run?.envelope.body.kind, "run");
  if (run?.envelope.body.kind !== "run") return;
  await transitions.delete([run.receipt]);
  const poison = {
    ...run.envelope,
    body: { ...run.envelope.body, input: { ref: "payloads/f-1/gone.json", bytes: 2 } },
  };
  await fragile.queues.send([poison], fragile.clock.now());
  await fragile.drain();
  const ended = await fragile.execution("f-1");
  assert.equal(ended?.thread.status, "succeeded", JSON.stringify(ended?.thread.error));
  const data = ended && "inline" in ended.thread.data ? ended.thread.data.inline : undefined;
  assert.equal((data as { outcome?: string } | undefined)?.outcome, "recovered");
  assert.equal(
    (data as { failure?: { name?: string } } | undefined)?.failure?.name,
    "Cascade.RuntimeFailure",
  );
});

test("starting checks the input schema, the id, and refuses a reused id with other input", async () => {
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities,
  });
  const refused = await stack.runtime
    .startExecution("OrderFulfillment", { customer_id: 5 }, { id: "bad-input" })
    .then(
      () => undefined,
      (error: unknown) =>
        error as { name: string; code: string; problems: { path: string; message: string }[] },
    );
  assert.equal(refused?.name, "StartError");
  assert.equal(refused?.code, "INVALID_INPUT");
  assert.ok(
    refused?.problems.some((p) => p.path === "/customer_id"),
    JSON.stringify(refused?.problems),
  );
  assert.ok(
    refused?.problems.some((p) => /cart_items/.test(p.message)),
    JSON.stringify(refused?.problems),
  );
  assert.equal(
    await stack.execution("bad-input"),
    undefined,
    "nothing is written for a refused start",
  );
  await assert.rejects(
    stack.runtime.startExecution("OrderFulfillment", order, { id: "has space" }),
    { code: "INVALID_ID" },
  );
  await assert.rejects(stack.runtime.startExecution("Nope", order), {
    name: "DefinitionError",
    code: "UNKNOWN_WORKFLOW",
  });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "same" });
  await assert.rejects(
    stack.runtime.startExecution(
      "OrderFulfillment",
      { ...order, customer_id: "other" },
      { id: "same" },
    ),
    { code: "ID_CONFLICT" },
  );
  assert.equal(
    (await stack.runtime.startExecution("OrderFulfillment", order, { id: "same" })).created,
    false,
  );
});

test("records and messages stay within their budget when data sits just under the offload threshold", async () => {
  const branches = Array.from(
    { length: 20 },
    (_, i) =>
      `      - { name: B${i}, type: Task, resource: "urn:cascade:activity:echo", result: $.r${i} }`,
  );
  const source = `name: Wide
states:
  - name: First
    type: Task
    resource: urn:cascade:activity:echo
    result: $.first
    next: Fan
  - name: Fan
    type: Parallel
    branches:
${branches.join("\n")}
    end: true
`;
  const stack = memoryStack({
    workflows: [{ file: "wide.yaml", source }],
    activities: { echo: (input: { blob: string }) => input.blob.length },
  });
  await stack.runtime.startExecution("Wide", { blob: "z".repeat(150_000) }, { id: "w-1" });
  await stack.drain();
  const record = await stack.execution("w-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  const largest = stack.store.calls.largestItemBytes;
  assert.ok(largest < 300 * 1024, `an item of ${largest} bytes was written; DynamoDB takes 400 KB`);
  for (const message of stack.queues.sent) {
    const size = JSON.stringify(message).length;
    assert.ok(
      size < 256 * 1024,
      `a ${message.body.kind} message of ${size} bytes would not fit SQS`,
    );
  }
});

test("timers longer than SQS's 15-minute delay are chained until due", async () => {
  const source = `name: Long
states:
  - { name: Nap, type: Wait, duration: 2h, next: Done }
  - { name: Done, type: Succeed }
`;
  const stack = memoryStack({ workflows: [{ file: "long.yaml", source }], activities: {} });
  const start = stack.clock.now();
  await stack.runtime.startExecution("Long", {}, { id: "long-1" });
  const { deliveries } = await stack.drain();
  const record = await stack.execution("long-1");
  assert.equal(record?.thread.status, "succeeded");
  const timerSends = stack.queues.sent.filter((m) => m.body.kind === "event");
  assert.equal(
    timerSends.length,
    8,
    "one send, then seven more hops of at most 15 minutes for two hours",
  );
  assert.ok(
    timerSends.every((m) => m.mid === timerSends[0]?.mid && m.notBefore === start + 7_200_000),
  );
  assert.equal(deliveries, 8);
  assert.ok(stack.clock.now() >= start + 7_200_000, "it fired no earlier than due");
});

test("cancelling one tenant's execution never touches another tenant's with the same id", async () => {
  const source = `name: T
states:
  - { name: Work, type: Task, resource: "urn:cascade:activity:work", end: true }
`;
  const aborted: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const stack = memoryStack({
    workflows: [{ file: "t.yaml", source }],
    activities: {
      work: async (input: { tenant: string }, context) => {
        context.signal.addEventListener("abort", () => aborted.push(input.tenant));
        await gate;
        return input.tenant;
      },
    },
  });
  await stack.runtime.startExecution("T", { tenant: "A" }, { id: "order-1", tenant: "A" });
  await stack.runtime.startExecution("T", { tenant: "B" }, { id: "order-1", tenant: "B" });
  const messages = await stack.queues.queue("transitions").receive(10);
  const running = messages.map((m) => stack.runtime.handle(m.envelope, m.receiveCount));
  await new Promise((resolve) => setTimeout(resolve, 10));
  await stack.runtime.cancel("A", "order-1", "tenant A cancels");
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(aborted, ["A"], "only tenant A's activity is aborted");
  release();
  await Promise.all(running);
  assert.equal((await stack.execution("order-1", "A"))?.thread.status, "cancelled");
  assert.equal((await stack.execution("order-1", "B"))?.thread.status, "succeeded");
});

test("a Parallel's branches that arrive in one batch run side by side and report to their join in one write", async () => {
  const run = async (batches: boolean) => {
    let running = 0;
    let overlap = 0;
    const slow = async <T>(value: T): Promise<T> => {
      running++;
      overlap = Math.max(overlap, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      return value;
    };
    const stack = memoryStack({
      // Without the workflow's 1h timeout, whose timer would be one more (no-op) step.
      workflows: [
        {
          file: ORDER_FILE,
          source: readFileSync(ORDER_FILE, "utf8").replace(/^timeout: 1h\n/m, ""),
        },
      ],
      activities: {
        ...activities,
        verify_identity: () => slow({ verified: true }),
        check_credit: () => slow({ approved: true }),
      },
      batches,
    });
    await stack.runtime.startExecution("OrderFulfillment", order, { id: "order-b" });
    await stack.drain();
    const reads = stack.store.calls.reads;
    const record = await stack.execution("order-b");
    assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
    const joins = [...stack.store.joins.values()];
    assert.equal(joins.length, 1);
    return {
      joinVersion: joins[0]?.version,
      reads,
      overlap,
      output: await stack.runtime.codec.load(record.thread.data),
    };
  };
  const single = await run(false);
  const batched = await run(true);
  assert.deepEqual(batched.output, single.output);
  assert.equal(single.joinVersion, 4, "one by one: created, then one write per branch");
  assert.equal(batched.joinVersion, 2, "in one batch: created, then one write for all three");
  assert.equal(single.overlap, 1);
  assert.equal(batched.overlap, 2, "the branches' activities ran at the same time");
  // The happy path reads four times: the execution's cancel request once per batch before
  // its queued runs start (three hops: three reads, the branches sharing one), and the
  // join, to fold the batch's reports into it. The parent thread is continued from the
  // snapshot its join carries; no thread is read.
  assert.equal(batched.reads, 4);
});

test("a start that stopped between its record and its join is finished by the retry; other input is refused", async () => {
  const source = `name: FanFirst
states:
  - name: Both
    type: Parallel
    branches:
      - { name: A, type: Pass, result: $.a }
      - { name: B, type: Pass, result: $.b }
    end: true
`;
  const stack = memoryStack({ workflows: [{ file: "fan-first.yaml", source }], activities: {} });
  const putJoin = stack.store.putJoin.bind(stack.store);
  let failOnce = true;
  stack.store.putJoin = async (...args) => {
    if (failOnce) {
      failOnce = false;
      throw new Error("crash after the execution record");
    }
    return putJoin(...args);
  };
  await assert.rejects(
    stack.runtime.startExecution("FanFirst", { n: 1 }, { id: "fan-1" }),
    /crash after the execution record/,
  );
  assert.equal(stack.store.joins.size, 0, "the crash left no join");
  await assert.rejects(
    stack.runtime.startExecution("FanFirst", { n: 2 }, { id: "fan-1" }),
    (error: unknown) => (error as { code?: string }).code === "ID_CONFLICT",
  );
  assert.equal(stack.store.joins.size, 0, "a start with other input writes nothing");
  const retried = await stack.runtime.startExecution("FanFirst", { n: 1 }, { id: "fan-1" });
  assert.equal(retried.created, false);
  await stack.drain();
  const record = await stack.execution("fan-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  assert.deepEqual(await stack.runtime.codec.load(record.thread.data), {
    n: 1,
    a: { n: 1 },
    b: { n: 1 },
  });
});

test("metrics: activity duration and errors, workflow duration and outcome, as CloudWatch EMF lines", async () => {
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities: {
      ...activities,
      check_credit: () => {
        throw Object.assign(new Error("bureau down"), { name: "BureauDown", retryable: false });
      },
    },
  });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "m-1" });
  await stack.drain();
  const metrics = stack.lines
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const named = (name: string) => metrics.filter((m) => name in m);
  for (const m of metrics) {
    const aws = m._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
    assert.equal(aws.CloudWatchMetrics[0]?.Namespace, "Cascade");
    const sets = aws.CloudWatchMetrics[0]?.Dimensions ?? [];
    assert.deepEqual(sets[0], ["app"], "every metric rolls up per app");
    for (const dimension of sets.flat())
      assert.equal(typeof m[dimension], "string", `dimension ${dimension} is set`);
  }
  const durations = named("ActivityDuration");
  assert.deepEqual(durations.map((m) => m.activity).sort(), [
    "check_credit",
    "check_inventory",
    "validate_order",
    "verify_identity",
  ]);
  assert.ok(
    durations.every((m) => "ActivityErrors" in m),
    "an activity's duration and error count share one log line",
  );
  const errors = named("ActivityErrors");
  assert.equal(errors.find((m) => m.activity === "check_credit")?.ActivityErrors, 1);
  assert.equal(errors.find((m) => m.activity === "validate_order")?.ActivityErrors, 0);
  assert.equal(named("WorkflowOutcome")[0]?.outcome, "failed");
  assert.equal(named("WorkflowStarted")[0]?.workflow, "OrderFulfillment");
  // One line per handled batch (here, per message), its latencies as an array.
  const latencies = named("TransitionLatency").flatMap((m) => m.TransitionLatency as number[]);
  assert.ok(latencies.length >= 3, "every queued transition reports its latency");
  assert.ok(latencies.every((ms) => Number.isFinite(ms) && ms >= 0));
  assert.equal(typeof named("WorkflowDuration")[0]?.WorkflowDuration, "number");
});

test("a Task's cache: the second execution with the same key reuses the result; other tenants and keys do not", async () => {
  const source = `name: Quote
states:
  - name: Price
    type: Task
    resource: urn:cascade:activity:price
    cache: { key: "price:{{ $.sku }}", ttl: 1m }
    result: $.price
    end: true
`;
  const calls: string[] = [];
  const stack = memoryStack({
    workflows: [{ file: "quote.yaml", source }],
    activities: {
      price: (input: { sku: string }) => {
        calls.push(input.sku);
        return { amount: calls.length };
      },
    },
    cache: new MemoryResultCache(),
  });
  const run = async (id: string, sku: string, tenant = "default") => {
    await stack.runtime.startExecution("Quote", { sku }, { id, tenant });
    await stack.drain();
    const record = await stack.store.getExecution(tenant, id);
    return record ? await stack.runtime.codec.load(record.thread.data) : undefined;
  };
  assert.deepEqual(await run("q1", "a"), { sku: "a", price: { amount: 1 } });
  assert.deepEqual(await run("q2", "a"), { sku: "a", price: { amount: 1 } }, "a hit");
  assert.deepEqual(await run("q3", "b"), { sku: "b", price: { amount: 2 } }, "another key");
  assert.deepEqual(
    await run("q4", "a", "acme"),
    { sku: "a", price: { amount: 3 } },
    "another tenant never sees this tenant's results",
  );
  assert.deepEqual(calls, ["a", "b", "a"]);
  const hits = stack.lines.filter((l) => l.includes('"CacheHits"')).length;
  const misses = stack.lines.filter((l) => l.includes('"CacheMisses"')).length;
  assert.deepEqual([hits, misses], [1, 3]);
  // The history says which: the console's step inspector shows it.
  const cacheOf = async (id: string) =>
    (await stack.store.readHistory("default", id, 1000)).items
      .filter((e) => e.type === "ActivitySucceeded")
      .map((e) => e.detail?.cache);
  assert.deepEqual(await cacheOf("q1"), ["miss"]);
  assert.deepEqual(await cacheOf("q2"), ["hit"]);
});

test("the manifest's emitted metrics (read by the dashboard) are exactly the ones the engine and runtime emit", () => {
  assert.deepEqual(Object.keys(METRICS.emitted).sort(), [...METRIC_NAMES].sort());
});

test("a batch whose messages cannot be sent fails whole; its redelivery re-sends what the commits caused", async () => {
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities,
  });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "s-1" });
  const q = stack.queues.queue("transitions");
  const batch = await q.receive(10);
  assert.ok(batch.length > 0);
  const send = stack.queues.send.bind(stack.queues);
  stack.queues.send = async () => {
    throw new Error("SQS is down");
  };
  const failed = await processBatch(
    stack.runtime,
    batch.map((m) => ({
      id: m.receipt,
      body: JSON.stringify(m.envelope),
      receiveCount: m.receiveCount,
    })),
  );
  assert.deepEqual(
    [...failed].sort(),
    batch.map((m) => m.receipt).sort(),
    "every record is reported failed, so none is deleted",
  );
  stack.queues.send = send;
  for (const m of batch) await q.release(m.receipt, 0);
  await stack.drain();
  const record = await stack.execution("s-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
});

test("an event sent again with the same id is delivered once, even after it was consumed", async () => {
  const source = `name: TwoSteps
states:
  - { name: First, type: WaitForEvent, event: go, result: $.first, next: Second }
  - { name: Second, type: WaitForEvent, event: go, result: $.second, end: true }
`;
  const stack = memoryStack({ workflows: [{ file: "two.yaml", source }], activities: {} });
  await stack.runtime.startExecution("TwoSteps", {}, { id: "ev-1" });
  await stack.drain();
  assert.equal(await stack.runtime.signal("default", "ev-1", "go", { n: 1 }, "send-1"), true);
  await stack.drain();
  // The sender retries (say, its response was lost): the same id must not count again.
  await stack.runtime.signal("default", "ev-1", "go", { n: 1 }, "send-1");
  await stack.drain();
  assert.equal((await stack.execution("ev-1"))?.thread.status, "running", "still waiting");
  await stack.runtime.signal("default", "ev-1", "go", { n: 2 }, "send-2");
  await stack.drain();
  const record = await stack.execution("ev-1");
  assert.equal(record?.thread.status, "succeeded");
  assert.deepEqual(await stack.runtime.codec.load(record.thread.data), {
    first: { n: 1 },
    second: { n: 2 },
  });
});
