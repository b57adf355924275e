/**
 * The holes of the reliability review (../shared/reviews/reliability.md), each pinned
 * by a test that failed on the runtime before the step log: worker heartbeats, killed
 * attempts, keys, queued work after a cancel, ANY in one batch, bounded ids and sizes,
 * sub-second delays, poison messages in a batch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { delaySeconds } from "../../lib/adapters/aws/sqs-queue.ts";
import { MemoryPayloadStore } from "../../lib/adapters/memory/payloads.ts";
import { MemoryQueues } from "../../lib/adapters/memory/queue.ts";
import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { type MessageQueue, messageKey, type OutMessage } from "../../lib/core/ports.ts";
import { DYNAMODB_ITEM_LIMIT_BYTES } from "../../lib/manifest/index.ts";
import type { ActivityContext } from "../../lib/runtime/activities.ts";
import { processBatch } from "../../lib/runtime/batch.ts";
import { BRANCH_PAGE, jsonBytesUpTo } from "../../lib/runtime/budget.ts";
import { DefinitionRegistry } from "../../lib/runtime/definitions.ts";
import { MAX_MESSAGE_ID_CHARS, Runtime } from "../../lib/runtime/runtime.ts";
import { INLINE_FOLLOW_UPS_PER_INVOCATION } from "../../lib/runtime/unit-of-work.ts";
import { memoryStack } from "../support/memory-stack.ts";

const dataOf = (record: { thread: { data: unknown } } | undefined): Record<string, JsonValue> =>
  record && typeof record.thread.data === "object" && record.thread.data !== null
    ? (((record.thread.data as { inline?: JsonValue }).inline ?? {}) as Record<string, JsonValue>)
    : {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("F6: a worker-routed Task with a heartbeat succeeds while its activity heartbeats", async () => {
  const source = `name: Beat
states:
  - name: Long
    type: Task
    resource: urn:cascade:activity:beat@us-east
    heartbeat: 1s
    timeout: 30s
    result: $.beat
    end: true
`;
  const stack = memoryStack({
    workflows: [{ file: "beat.yaml", source }],
    workerRegions: ["us-east"],
    activities: {
      beat: async (_input: never, ctx: ActivityContext) => {
        for (let i = 0; i < 5; i++) {
          await sleep(300);
          ctx.heartbeat();
        }
        return "alive";
      },
    },
  });
  await stack.runtime.startExecution("Beat", {}, { id: "beat-1" });
  await stack.drain();
  const record = await stack.execution("beat-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  assert.equal(dataOf(record).beat, "alive");
  assert.equal(
    stack.queues.sent.filter((m) => m.body.kind === "event").length,
    1,
    "the worker's result is the only event: no heartbeat timer crosses the queue",
  );
});

test("a killed attempt (its process died three times past the Task's timeout) ends in Cascade.Timeout and the Task's catch", async () => {
  const source = `name: Killed
states:
  - name: Slow
    type: Task
    timeout: 30s
    result: $.slow
    catch:
      - { errors: [Cascade.Timeout], result: $.timeout, next: Recovered }
    end: true
  - { name: Recovered, type: Pass, value: recovered, result: $.outcome, end: true }
`;
  let calls = 0;
  const releases: ((value: string) => void)[] = [];
  const stack = memoryStack({
    workflows: [{ file: "killed.yaml", source }],
    activities: {
      slow: () => {
        calls++;
        return new Promise<string>((resolve) => releases.push(resolve));
      },
    },
  });
  await stack.runtime.startExecution("Killed", {}, { id: "k-1" });
  const transitions = stack.queues.queue("transitions");
  const [run] = await transitions.receive(10);
  assert.ok(run, "the first run is queued");
  // The first three deliveries' processes are killed mid-activity: their promises are
  // abandoned (a death or two are retried: a crash may come before the attempt began).
  const zombies = [stack.runtime.handle(run.envelope, 1)];
  for (const receiveCount of [2, 3]) {
    await sleep(10);
    stack.advance(31_000);
    zombies.push(stack.runtime.handle(run.envelope, receiveCount));
  }
  await sleep(10);
  assert.equal(calls, 3, "the first deaths are retried");
  stack.advance(31_000);
  await stack.runtime.handle(run.envelope, 4);
  const record = await stack.execution("k-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  assert.equal(dataOf(record).outcome, "recovered", "the Task's catch took the timeout");
  assert.equal((dataOf(record).timeout as { name?: string }).name, "Cascade.Timeout");
  assert.equal(calls, 3, "the fourth delivery did not run the activity again");
  for (const release of releases) release("late");
  await Promise.all(zombies);
  assert.equal(
    (await stack.execution("k-1"))?.thread.status,
    "succeeded",
    "the zombie changed nothing",
  );
});

test("G4: activity keys include tenant and app; stepKey stays across retries, idempotencyKey does not", async () => {
  const source = `name: Pay
states:
  - name: Charge
    type: Task
    retry: { errors: [ALL], max_attempts: 2, interval: 1s }
    end: true
`;
  const seen: { tenant: string; attempt: number; key: string; step: string }[] = [];
  const stack = memoryStack({
    workflows: [{ file: "pay.yaml", source }],
    activities: {
      charge: (input: { tenant: string }, ctx: ActivityContext) => {
        seen.push({
          tenant: input.tenant,
          attempt: ctx.attempt,
          key: ctx.idempotencyKey,
          step: ctx.stepKey,
        });
        if (ctx.attempt === 1) throw new Error("transient");
        return "ok";
      },
    },
  });
  for (const tenant of ["acme", "globex"])
    await stack.runtime.startExecution("Pay", { tenant }, { id: "order-1", tenant });
  await stack.drain();
  assert.equal(seen.length, 4);
  const acme = seen.filter((s) => s.tenant === "acme");
  const globex = seen.filter((s) => s.tenant === "globex");
  assert.equal(acme[0]?.step, acme[1]?.step, "one step key across the retries of a step");
  assert.notEqual(acme[0]?.key, acme[1]?.key, "one idempotency key per attempt");
  assert.notEqual(acme[0]?.step, globex[0]?.step, "two tenants never share a key");
  assert.notEqual(acme[0]?.key, globex[0]?.key);
  for (const s of seen) {
    assert.equal(s.key.length, 45);
    assert.equal(s.step.length, 45);
  }
});

test("G2: a retry waiting in the queue does not run after the execution is cancelled", async () => {
  const source = `name: Retried
states:
  - name: Charge
    type: Task
    retry: { errors: [ALL], max_attempts: 3, interval: 10m }
    end: true
`;
  let calls = 0;
  const stack = memoryStack({
    workflows: [{ file: "retried.yaml", source }],
    activities: {
      charge: () => {
        calls++;
        throw new Error("transient");
      },
    },
  });
  await stack.runtime.startExecution("Retried", {}, { id: "r-1" });
  await stack.drain(1);
  assert.equal(calls, 1, "the first attempt ran and failed; the retry waits 10 minutes");
  assert.deepEqual(await stack.runtime.cancel("default", "r-1", "stop"), { outcome: "cancelled" });
  await stack.drain();
  assert.equal((await stack.execution("r-1"))?.thread.status, "cancelled");
  assert.equal(calls, 1, "the queued retry of a cancelled execution did not start");
});

test("G6: the queued first runs of a cancelled 200-item Map do not start", async () => {
  const source = `name: Wide
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Work, type: Task, end: true }
    end: true
`;
  let calls = 0;
  const stack = memoryStack({
    workflows: [{ file: "wide.yaml", source }],
    activities: {
      work: () => {
        calls++;
        return "done";
      },
    },
    batches: true,
  });
  const items = Array.from({ length: 200 }, (_, n) => n);
  await stack.runtime.startExecution("Wide", { items }, { id: "w-1" });
  // Each item is queued: its first run, or (past the start's inline budget) its start.
  const queued = stack.queues.sent.filter((m) => m.body.kind === "run" || m.body.kind === "branch");
  assert.equal(queued.length, 200);
  assert.ok(queued.filter((m) => m.body.kind === "run").length < 200, "no invocation starts 200");
  assert.deepEqual(await stack.runtime.cancel("default", "w-1", "stop"), { outcome: "cancelled" });
  await stack.drain();
  assert.equal((await stack.execution("w-1"))?.thread.status, "cancelled");
  assert.equal(calls, 0, "no queued item of the cancelled Map started");
  assert.equal(stack.queues.queue("transitions").dead.length, 0);
});

test("ANY continues the parent as soon as a branch wins, even with the loser in the same SQS batch", {
  timeout: 20_000,
}, async () => {
  const source = `name: Race
states:
  - name: Either
    type: Parallel
    completion_strategy: ANY
    branches:
      - { name: Fast, type: Task, result: $.fast }
      - { name: Slow, type: Task, result: $.slow }
    next: After
  - { name: After, type: Task, result: $.after, end: true }
`;
  let slowAborted = false;
  let afterRanBeforeSlowEnded = false;
  let slowEnded = false;
  const stack = memoryStack({
    workflows: [{ file: "race.yaml", source }],
    batches: true,
    activities: {
      fast: () => "fast",
      // Ends only when aborted: a runtime that waited for it would never finish.
      slow: (_input: never, ctx: ActivityContext) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            slowAborted = true;
            slowEnded = true;
            reject(new Error("aborted"));
          });
        }),
      after: () => {
        afterRanBeforeSlowEnded = !slowEnded;
        return "after";
      },
    },
  });
  await stack.runtime.startExecution("Race", {}, { id: "race-1" });
  await stack.drain();
  const record = await stack.execution("race-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  assert.equal(dataOf(record).after, "after");
  assert.ok(slowAborted, "the losing branch's running activity was aborted");
  assert.equal(afterRanBeforeSlowEnded, false, "(the next state's run is sent with the batch)");
});

test("F1: message ids stay bounded over a 3,000-iteration loop and a 500-item Map at max_concurrency 1", async () => {
  const loop = `name: Poll
states:
  - { name: Tick, type: Wait, duration: 1s, next: Count }
  - { name: Count, type: Pass, value: "{{ $.n + 1 }}", result: $.n, next: Check }
  - name: Check
    type: Choice
    choices:
      - { condition: "{{ $.n < 3000 }}", next: Tick }
    default: Done
  - { name: Done, type: Succeed }
`;
  const map = `name: OneByOne
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 1
    iterator:
      - { name: Work, type: Task, end: true }
    end: true
`;
  const stack = memoryStack({
    workflows: [
      { file: "poll.yaml", source: loop },
      { file: "one.yaml", source: map },
    ],
    activities: { work: (n: number) => n * 2 },
  });
  await stack.runtime.startExecution("Poll", { n: 0 }, { id: "poll-1" });
  await stack.runtime.startExecution(
    "OneByOne",
    { items: Array.from({ length: 500 }, (_, n) => n) },
    { id: "map-1" },
  );
  await stack.drain();
  assert.equal((await stack.execution("poll-1"))?.thread.status, "succeeded");
  const mapped = await stack.execution("map-1");
  assert.equal(mapped?.thread.status, "succeeded", JSON.stringify(mapped?.thread.error));
  const longest = Math.max(...stack.queues.sent.map((m) => m.mid.length));
  assert.ok(longest <= 64, `the longest message id is ${longest} characters`);
  assert.ok(longest <= MAX_MESSAGE_ID_CHARS);
  const steps = [...stack.store.logs.values()].flat();
  const causes = Math.max(...steps.map((s) => s.causedBy.length + (s.origin?.length ?? 0)));
  assert.ok(causes <= 128, `stored causal ids stay short (${causes})`);
  assert.ok(stack.store.calls.largestItemBytes < 16 * 1024, "no item grows with the hops");
});

test("a Fail with a 500,000-character cause fails the execution with the cause cut, every item within DynamoDB's limit", async () => {
  const source = `name: Loud
states:
  - name: Stop
    type: Fail
    error: Too.Loud
    cause: "{{ $.cause }}"
`;
  const stack = memoryStack({ workflows: [{ file: "loud.yaml", source }], activities: {} });
  await stack.runtime.startExecution("Loud", { cause: "c".repeat(500_000) }, { id: "loud-1" });
  await stack.drain();
  const record = await stack.execution("loud-1");
  assert.equal(record?.thread.status, "failed");
  assert.equal(record?.thread.error?.name, "Too.Loud");
  assert.ok((record?.thread.error?.message.length ?? 0) <= 8 * 1024 + 1);
  assert.ok(stack.store.calls.largestItemBytes < DYNAMODB_ITEM_LIMIT_BYTES);
  const history = await stack.store.readHistory("default", "loud-1", 100);
  assert.equal(history.items.at(-1)?.type, "ExecutionFailed");
});

test("sub-second delays: SQS gets no delay and the handler waits out the rest", async () => {
  const now = 1_000_000;
  assert.equal(delaySeconds(now + 200, now), 0, "200 ms is sent at once (it would be 1 s)");
  assert.equal(delaySeconds(now + 999, now), 0);
  assert.equal(delaySeconds(now + 1_500, now), 2, "a second or more rounds up: never early");
  const source = `name: Quick
states:
  - { name: Soon, type: Pass, value: done, result: $.soon, end: true }
`;
  const stack = memoryStack({ workflows: [{ file: "q.yaml", source }], activities: {} });
  const { record } = await stack.runtime.startExecution("Quick", {}, { id: "q-1" });
  // A timer due in 300 ms that SQS delivered at once.
  const early: OutMessage = {
    mid: "early",
    queue: "transitions",
    notBefore: stack.clock.now() + 300,
    body: {
      kind: "event",
      header: record.header,
      thread: "root",
      event: { type: "TimerFired", token: { thread: "root", step: 99 }, purpose: "wait" },
    },
  };
  const started = performance.now();
  await stack.runtime.handle(early, 1);
  assert.ok(performance.now() - started >= 250, "the handler waited until the message was due");
});

test("invariant 12: a message SQS refuses fails only the record that caused it, not its batch", async () => {
  const source = `name: One
states:
  - { name: Step, type: Task, result: $.step, next: Then }
  - { name: Then, type: Task, result: $.then, end: true }
`;
  let now = Date.UTC(2026, 0, 1);
  const store = new MemoryExecutionStore();
  const queues = new MemoryQueues({ now: () => now });
  const refused = new Set<string>();
  const queue: MessageQueue = {
    async send(messages, at) {
      const unsent = messages.filter((m) => refused.has(m.body.header.executionId)).map(messageKey);
      await queues.send(
        messages.filter((m) => !refused.has(m.body.header.executionId)),
        at,
      );
      if (unsent.length > 0) throw Object.assign(new Error("SQS refused a message"), { unsent });
    },
  };
  const definitions = new DefinitionRegistry(store);
  definitions.register(source, "one.yaml");
  const runtime = new Runtime(
    {
      store,
      queue: queues,
      payloads: new MemoryPayloadStore(),
      clock: { now: () => now },
      definitions,
      activities: new Map([["step", () => 1]]),
    },
    { app: "test", log: () => {} },
  );
  for (let n = 0; n < 10; n++) await runtime.startExecution("One", { n }, { id: `e-${n}` });
  const batch = await queues.queue("transitions").receive(10);
  assert.equal(batch.length, 10);
  // The same batch, handled by a runtime whose sends of e-3's messages are refused.
  const handler = new Runtime(
    {
      store,
      queue,
      payloads: new MemoryPayloadStore(),
      clock: { now: () => now },
      definitions,
      activities: new Map([["step", () => 1]]),
    },
    { app: "test", log: () => {} },
  );
  refused.add("e-3");
  now += 1;
  const failed = await processBatch(
    handler,
    batch.map((m) => ({ id: m.receipt, body: JSON.stringify(m.envelope), receiveCount: 1 })),
  );
  const e3 = batch.find((m) => m.envelope.body.header.executionId === "e-3");
  assert.deepEqual(failed, [e3?.receipt], "only the record whose message was refused failed");
  for (let n = 0; n < 10; n++) {
    const latest = await store.getExecution("default", `e-${n}`);
    assert.equal(latest?.thread.current, "Then", `e-${n} committed its step`);
  }
  assert.equal(
    queues.sent.filter((m) => m.body.kind === "run" && m.body.state === "Then").length,
    9,
    "the nine others' next runs were sent; e-3's is sent again by its redelivery",
  );
});

test("jsonBytesUpTo measures small values exactly and stops early on large ones", () => {
  const values: JsonValue[] = [
    null,
    true,
    12.5,
    'héllo "x"',
    [],
    {},
    [1, "a", null, { b: [true, false] }],
    { a: 1, "k é": "v", nested: { list: [1, 2, 3], s: "" } },
  ];
  for (const value of values)
    assert.equal(jsonBytesUpTo(value, 10_000), Buffer.byteLength(JSON.stringify(value)));
  const big = { blob: "x".repeat(5_000_000), more: Array.from({ length: 100_000 }, (_, i) => i) };
  assert.equal(jsonBytesUpTo(big, 1024), 1025, "over the limit: limit + 1");
  assert.equal(jsonBytesUpTo({ a: "x".repeat(1000) }, 1008), 1008);
  assert.equal(jsonBytesUpTo({ a: "x".repeat(1000) }, 1007), 1008);
});

test("a 1,200-item Map starts, and a cancel stops, its items a page at a time (DESIGN.md section 9)", {
  timeout: 60_000,
}, async () => {
  const source = `name: Paged
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Hold, type: Pass, next: Work }
      - { name: Work, type: Task, end: true }
    result: $.out
    end: true
`;
  const stack = memoryStack({
    workflows: [{ file: "paged.yaml", source }],
    activities: { work: (input: unknown) => input },
    batches: true,
  });
  const items = Array.from({ length: 1_200 }, (_, n) => n);
  await stack.runtime.startExecution("Paged", { items }, { id: "p-1" });
  // The start's own invocation: a bounded number of items handled in-process, the rest of
  // the first page queued as branch starts, and one message for the next page.
  const started = stack.queues.sent.length;
  assert.ok(started <= BRANCH_PAGE + INLINE_FOLLOW_UPS_PER_INVOCATION + 2, `${started} messages`);
  assert.equal(stack.queues.sent.filter((m) => m.body.kind === "start-branches").length, 1);
  await stack.drain();
  const done = await stack.execution("p-1");
  assert.equal(done?.thread.status, "succeeded");
  assert.ok(done);
  const data = await stack.runtime.codec.load(done.thread.data);
  assert.deepEqual((data as { out: number[] }).out, items);

  // Cancelled with every item waiting on its activity: the cancel reaches all of them,
  // a page per message.
  await stack.runtime.startExecution("Paged", { items }, { id: "p-2" });
  await stack.drain(2_000);
  assert.deepEqual(await stack.runtime.cancel("default", "p-2", "stop"), { outcome: "cancelled" });
  await stack.drain();
  assert.equal((await stack.execution("p-2"))?.thread.status, "cancelled");
  assert.equal(stack.queues.queue("transitions").dead.length, 0);
});

test("a Map fails past its tolerated_failure_percentage, and succeeds within it (with tolerated_failures, the stricter holds)", async () => {
  const map = (name: string, tolerance: string) => ({
    file: `${name}.yaml`,
    source: `name: ${name}
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
${tolerance}
    iterator:
      - { name: Check, type: Task, resource: "urn:cascade:activity:check", end: true }
    result: $.out
    end: true
`,
  });
  const stack = memoryStack({
    workflows: [
      map("Lenient", "    tolerated_failure_percentage: 25"),
      map("Strict", "    tolerated_failure_percentage: 24"),
      map("Both", "    tolerated_failure_percentage: 50\n    tolerated_failures: 4"),
    ],
    activities: {
      // Items 1, 5, 9, … fail: 5 of 20 (25%).
      check: (n: number) => {
        if (n % 4 === 1)
          throw Object.assign(new Error(`item ${n}`), { name: "Broken", retryable: false });
        return n;
      },
    },
    batches: true,
  });
  const items = Array.from({ length: 20 }, (_, n) => n);
  for (const workflow of ["Lenient", "Strict", "Both"])
    await stack.runtime.startExecution(workflow, { items }, { id: workflow });
  await stack.drain();
  const lenient = await stack.execution("Lenient");
  assert.equal(lenient?.thread.status, "succeeded");
  assert.ok(lenient);
  const out = ((await stack.runtime.codec.load(lenient.thread.data)) as { out: unknown[] }).out;
  assert.deepEqual(
    out,
    items.map((n) => (n % 4 === 1 ? null : n)),
  );
  for (const id of ["Strict", "Both"]) {
    const failed = await stack.execution(id);
    assert.equal(failed?.thread.status, "failed", id);
    assert.equal(failed?.thread.error?.name, "Cascade.BranchFailed", id);
  }
});
