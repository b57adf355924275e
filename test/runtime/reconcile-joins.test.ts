/**
 * The reconciler and a thread that waits for a join (lib/runtime/reconcile.ts): while
 * the execution's work is merely slow — a branch's activity past the idle time, or the
 * activity a join's continuation runs (continuation.ts) — it sends nothing, and an
 * activity never runs twice for it. Once nothing has committed for the activity grace,
 * what was lost is sent again, and the branches that ran already do not run again
 * (their starts are marked `resent`: each first run reads its thread), and a run a
 * redelivery sends again reads its thread too. Each test failed on 4f6cc5b: an activity
 * ran twice (the first two and the last two), the lost continuation was sent within
 * the grace, a branch that had run ran again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TRANSITIONS } from "../../lib/runtime/runtime.ts";
import { memoryStack } from "../support/memory-stack.ts";

const SOURCE = `name: Order
states:
  - { name: Validate, type: Task, resource: "urn:cascade:activity:validate", result: $.valid, next: Checks }
  - name: Checks
    type: Parallel
    branches:
      - { name: Identity, type: Task, resource: "urn:cascade:activity:check", result: $.identity }
      - { name: Credit, type: Task, resource: "urn:cascade:activity:slow", result: $.credit }
    next: Combine
  - { name: Combine, type: Task, resource: "urn:cascade:activity:combine", result: $.decision, end: true }
`;
const GRACE_MS = 30 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stack whose activities count their calls; `blocked` waits until released. */
function counted(blocked?: "slow" | "combine") {
  const calls: Record<string, number> = {};
  const gate: { release?: () => void } = {};
  const activity = (name: string) => () => {
    calls[name] = (calls[name] ?? 0) + 1;
    if (name !== blocked) return "ok";
    return new Promise((resolve) => {
      gate.release = () => resolve("ok");
    });
  };
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: Object.fromEntries(
      ["validate", "check", "slow", "combine"].map((name) => [name, activity(name)]),
    ),
  });
  return { stack, calls, gate };
}

for (const blocked of ["slow", "combine"] as const) {
  const what =
    blocked === "slow" ? "a branch's activity" : "the activity of the join's continuation";
  test(`the reconciler sends nothing while ${what} runs past the idle time`, async () => {
    const { stack, calls, gate } = counted(blocked);
    await stack.runtime.startExecution("Order", {}, { id: "x-1" });
    const running = stack.drain();
    while (!gate.release) await sleep(2);
    // The root waits for the join, idle since the fan-out (an idle time of 0: as if
    // the activity had run for more than the 5 minutes of the default).
    const report = await stack.runtime.reconcile({ idleMs: 0 });
    assert.deepEqual(report.repaired, [], "nothing of the execution is lost");
    await sleep(10);
    gate.release();
    await running;
    await stack.drain();
    assert.equal((await stack.execution("x-1"))?.thread.status, "succeeded");
    assert.deepEqual(calls, { validate: 1, check: 1, slow: 1, combine: 1 });
  });
}

/** Delivers every message one at a time, as one consumer would, losing the runs of `state`. */
async function deliverLosing(stack: ReturnType<typeof memoryStack>, state: string) {
  const queue = stack.queues.queue(TRANSITIONS);
  let lost = 0;
  for (;;) {
    const [message] = await queue.receive(1);
    if (!message) return lost;
    await queue.delete([message.receipt]);
    const body = message.envelope.body;
    if (body.kind === "run" && body.state === state) lost++;
    else await stack.runtime.handle(message.envelope, message.receiveCount);
  }
}

/** Past the grace, the reconciler repairs execution `id`, which then succeeds. */
async function repairedAfterGrace(stack: ReturnType<typeof memoryStack>, id: string) {
  stack.advance(GRACE_MS + 1_000);
  const report = await stack.runtime.reconcile({});
  assert.deepEqual(
    report.repaired.map((r) => r.executionId),
    [id],
  );
  await stack.drain();
  assert.equal((await stack.execution(id))?.thread.status, "succeeded");
}

test("after the grace, a lost continuation is sent again and no branch runs again", async () => {
  const { stack, calls } = counted();
  await stack.runtime.startExecution("Order", {}, { id: "l-1" });
  // Combine's run (the join's continuation) is lost.
  assert.equal(await deliverLosing(stack, "Combine"), 1, "Combine's run is queued once");
  assert.equal((await stack.execution("l-1"))?.thread.status, "running");
  const early = await stack.runtime.reconcile({ idleMs: 0 });
  assert.deepEqual(early.repaired, [], "within the grace Combine may still be running");
  await repairedAfterGrace(stack, "l-1");
  assert.deepEqual(calls, { validate: 1, check: 1, slow: 1, combine: 1 });
});

test("after the grace, a fan-out's lost branch starts are sent again; a branch that ran does not run again", async () => {
  const { stack, calls } = counted();
  await stack.runtime.startExecution("Order", {}, { id: "b-1" });
  // Everything is delivered but the Credit branch's start, which is lost.
  assert.equal(await deliverLosing(stack, "Credit"), 1);
  assert.deepEqual(calls, { validate: 1, check: 1 });
  await repairedAfterGrace(stack, "b-1");
  assert.deepEqual(calls, { validate: 1, check: 1, slow: 1, combine: 1 });
});

test("a run sent again by a redelivery does not run its activity once the first copy committed", async () => {
  const calls: Record<string, number> = {};
  const stack = memoryStack({
    workflows: [
      {
        file: "three.yaml",
        source: `name: Three
states:
  - { name: A, type: Task, resource: "urn:cascade:activity:a", next: B }
  - { name: B, type: Task, resource: "urn:cascade:activity:b", next: C }
  - { name: C, type: Task, resource: "urn:cascade:activity:c", end: true }
`,
      },
    ],
    activities: Object.fromEntries(
      ["a", "b", "c"].map((name) => [
        name,
        () => {
          calls[name] = (calls[name] ?? 0) + 1;
          return name;
        },
      ]),
    ),
  });
  await stack.runtime.startExecution("Three", {}, { id: "t-1" });
  const queue = stack.queues.queue(TRANSITIONS);
  const take = async (state: string) => {
    const [message] = await queue.receive(1);
    assert.ok(message?.envelope.body.kind === "run", `a run is queued for ${state}`);
    assert.equal(message.envelope.body.state, state);
    return message;
  };
  // A's run commits and sends B's run, but its delete is lost: it comes back.
  const a = await take("A");
  await stack.runtime.handle(a.envelope, a.receiveCount);
  await queue.release(a.receipt, 0);
  // Its redelivery finds its step the latest and sends B's run again.
  const again = await take("A");
  assert.equal(again.receiveCount, 2);
  await stack.runtime.handle(again.envelope, again.receiveCount);
  await queue.delete([again.receipt]);
  // The first copy of B's run commits; the second arrives after it.
  const b = await take("B");
  await stack.runtime.handle(b.envelope, b.receiveCount);
  await queue.delete([b.receipt]);
  const copy = await take("B");
  await stack.runtime.handle(copy.envelope, copy.receiveCount);
  await queue.delete([copy.receipt]);
  await stack.drain();
  assert.equal((await stack.execution("t-1"))?.thread.status, "succeeded");
  assert.deepEqual(calls, { a: 1, b: 1, c: 1 });
});

test("a redelivered report derives its refill again; the refilled item, which ran, does not run again", async () => {
  const calls: number[] = [];
  const stack = memoryStack({
    workflows: [
      {
        file: "each.yaml",
        source: `name: Each
states:
  - name: Items
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 1
    iterator:
      - { name: Work, type: Task, resource: "urn:cascade:activity:work", next: Which }
      - name: Which
        type: Choice
        choices:
          - condition: "{{ $ == 1 }}"
            next: Rest
        default: Done
      - { name: Rest, type: Wait, duration: 120s, end: true }
      - { name: Done, type: Pass, end: true }
    end: true
`,
      },
    ],
    activities: {
      work: (input: number) => {
        calls.push(input);
        return input;
      },
    },
  });
  await stack.runtime.startExecution("Each", { items: [0, 1] }, { id: "e-1" });
  const queue = stack.queues.queue(TRANSITIONS);
  const take = async (what: string) => {
    const [message] = await queue.receive(1);
    assert.ok(message, what);
    return message;
  };
  // Item 0's run commits its end, and its report starts item 1 (max_concurrency 1); its
  // delete is lost, so it comes back in 30 s.
  let first = await take("item 0's run");
  while (!(first.envelope.body.kind === "run" && first.envelope.body.state === "Work")) {
    await stack.runtime.handle(first.envelope, first.receiveCount);
    await queue.delete([first.receipt]);
    first = await take("item 0's run");
  }
  await stack.runtime.handle(first.envelope, first.receiveCount);
  await queue.release(first.receipt, 30_000);
  // Item 1 runs and waits in Rest (120 s).
  const second = await take("item 1's run");
  assert.equal(second.envelope.body.kind, "run");
  await stack.runtime.handle(second.envelope, second.receiveCount);
  await queue.delete([second.receipt]);
  assert.deepEqual(calls, [0, 1]);
  // Item 0's redelivery re-derives the refill: item 1 is started again, and stops.
  stack.advance(31_000);
  await stack.drain();
  assert.equal((await stack.execution("e-1"))?.thread.status, "succeeded");
  assert.deepEqual(calls, [0, 1]);
});
