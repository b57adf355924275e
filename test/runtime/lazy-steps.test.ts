/**
 * Steps that ride with the run they cause (lib/runtime/continuation.ts, the start in
 * http-calls.ts): a start whose first state is a Task writes only its summary, and a
 * join's continuation into a Task is committed by that Task's run. Each test failed on
 * the runtime before them (the root then had a step for each), or pins a hazard of them:
 * a cancel, a lost run, a redelivery, a running activity's watch, history before the
 * first commit.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ThreadRecord } from "../../lib/core/ports.ts";
import { readHistory } from "../../lib/runtime/queries.ts";
import { TRANSITIONS } from "../../lib/runtime/runtime.ts";
import { memoryStack } from "../support/memory-stack.ts";

// The seed order workflow's shape: a Task, three checks side by side, a Task.
const SOURCE = `name: Order
states:
  - { name: Validate, type: Task, resource: "urn:cascade:activity:validate", result: $.valid, next: Checks }
  - name: Checks
    type: Parallel
    branches:
      - { name: Identity, type: Task, resource: "urn:cascade:activity:check", result: $.identity }
      - { name: Credit, type: Task, resource: "urn:cascade:activity:check", result: $.credit }
      - { name: Stock, type: Task, resource: "urn:cascade:activity:check", result: $.stock }
    next: Combine
  - { name: Combine, type: Task, resource: "urn:cascade:activity:combine", result: $.decision, end: true }
`;

const header = (id: string) => ({ tenant: "default", executionId: id });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rootSteps(
  stack: ReturnType<typeof memoryStack>,
  id: string,
): Promise<ThreadRecord[]> {
  const latest = await stack.execution(id);
  assert.ok(latest, `execution ${id} exists`);
  return (await stack.store.recentSteps(latest.header, "root", 50)).reverse();
}

const types = (records: readonly ThreadRecord[]) =>
  records.flatMap((r) => r.events.map((e) => (e.state ? `${e.type}:${e.state}` : e.type)));

test("the seed order shape commits two root steps: the start rides with Validate's run, the join's continuation with Combine's", async () => {
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: { validate: () => true, check: () => "ok", combine: () => "approved" },
    batches: true,
  });
  // A first execution stores the definition: count the second's writes.
  await stack.runtime.startExecution("Order", { id: 0 }, { id: "o-0" });
  await stack.drain();
  const writesBefore = stack.store.calls.writes;
  await stack.runtime.startExecution("Order", { id: 1 }, { id: "o-1" });
  await stack.drain();
  const steps = await rootSteps(stack, "o-1");
  assert.equal(steps.at(-1)?.thread.status, "succeeded");
  assert.deepEqual(
    steps.map((s) => s.version),
    [1, 2],
    "step 1: the start and Validate; step 2: the join and Combine",
  );
  // The history is whole, in order, each event once, as if every step had its own write.
  assert.deepEqual(types(steps), [
    "ExecutionStarted",
    "StateEntered:Validate",
    "ActivityScheduled:Validate",
    "ActivitySucceeded:Validate",
    "StateExited:Validate",
    "StateEntered:Checks",
    "BranchesStarted:Checks",
    "BranchesJoined:Checks",
    "StateExited:Checks",
    "StateEntered:Combine",
    "ActivityScheduled:Combine",
    "ActivitySucceeded:Combine",
    "StateExited:Combine",
    "ExecutionSucceeded",
  ]);
  assert.deepEqual(types([steps[1] as ThreadRecord]).slice(0, 1), ["BranchesJoined:Checks"]);
  // Summary at start and end, two root steps, three branch steps, the join's two writes.
  assert.equal(stack.store.calls.writes - writesBefore, 9);
});

test("a cancel before the first commit ends the execution cancelled; the first run's late result is dropped", async () => {
  let release: (() => void) | undefined;
  let aborted = false;
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: {
      validate: (_input: unknown, ctx: { signal: AbortSignal }) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
          });
          release = () => resolve(true);
        }),
      check: () => "ok",
      combine: () => "approved",
    },
  });
  await stack.runtime.startExecution("Order", {}, { id: "c-1" });
  const running = stack.drain();
  while (!release) await sleep(5);
  // No step yet: GET answers from the summary, and the cancel applies to it.
  assert.equal((await stack.execution("c-1"))?.version, 0);
  const outcome = await stack.runtime.cancel("default", "c-1", "changed my mind");
  assert.equal(outcome.outcome, "cancelled");
  assert.ok(aborted, "the running first activity's signal fired");
  release?.();
  await running;
  const steps = await rootSteps(stack, "c-1");
  assert.deepEqual(
    steps.map((s) => [s.version, s.thread.status]),
    [[1, "cancelled"]],
  );
  assert.equal(types(steps)[0], "ExecutionStarted", "the start's history is in the cancel's step");
});

test("a start whose run was lost is finished by the reconciler after the activity grace, its history once", async () => {
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: { validate: () => true, check: () => "ok", combine: () => "approved" },
  });
  await stack.runtime.startExecution("Order", {}, { id: "l-1" });
  // The start's only message is lost (as if its send never happened).
  const queue = stack.queues.queue(TRANSITIONS);
  const lost = await queue.receive(10);
  assert.equal(lost.length, 1);
  await queue.delete(lost.map((m) => m.receipt));
  const early = await stack.runtime.reconcile({ idleMs: 1_000, activityGraceMs: 60_000 });
  assert.equal(early.repaired.length, 0, "within the grace the first activity may still run");
  stack.advance(61_000);
  const report = await stack.runtime.reconcile({ idleMs: 1_000, activityGraceMs: 60_000 });
  assert.deepEqual(
    report.repaired.map((r) => r.executionId),
    ["l-1"],
  );
  await stack.drain();
  const steps = await rootSteps(stack, "l-1");
  assert.equal(steps.at(-1)?.thread.status, "succeeded");
  assert.equal(types(steps).filter((t) => t === "ExecutionStarted").length, 1);
});

test("a redelivered continuation run (its invocation died) still runs and commits once", async () => {
  let combines = 0;
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: {
      validate: () => true,
      check: () => "ok",
      combine: () => {
        combines++;
        return "approved";
      },
    },
  });
  await stack.runtime.startExecution("Order", {}, { id: "r-1" });
  // Deliver until Combine's run is queued: it carries the join's continuation.
  const queue = stack.queues.queue(TRANSITIONS);
  for (;;) {
    const [message] = await queue.receive(1);
    assert.ok(message, "Combine's run is queued at some point");
    const body = message.envelope.body;
    if (body.kind === "run" && body.state === "Combine") {
      assert.ok(
        body.events && body.events.length > 0,
        "the run carries the continuation's history",
      );
      // Its first delivery dies; the second is a redelivery.
      await queue.release(message.receipt, 0);
      break;
    }
    await stack.runtime.handle(message.envelope, message.receiveCount);
    await queue.delete([message.receipt]);
  }
  const [first] = await queue.receive(1);
  assert.ok(first);
  assert.equal(first.receiveCount, 2);
  await stack.runtime.handle(first.envelope, first.receiveCount);
  await queue.delete([first.receipt]);
  await stack.drain();
  const steps = await rootSteps(stack, "r-1");
  assert.equal(steps.at(-1)?.thread.status, "succeeded");
  assert.equal(combines, 1);
  assert.equal(types(steps).filter((t) => t === "BranchesJoined:Checks").length, 1);
});

test("a continuation's activity that outlives the watch's poll is not taken for abandoned", async () => {
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: {
      validate: async () => {
        await sleep(60);
        return true;
      },
      check: () => "ok",
      combine: async (_input: unknown, ctx: { signal: AbortSignal }) => {
        await sleep(120);
        if (ctx.signal.aborted) throw new Error("aborted by the watch");
        return "approved";
      },
    },
    cancelPollMs: 10,
  });
  await stack.runtime.startExecution("Order", {}, { id: "w-1" });
  await stack.drain();
  const latest = await stack.execution("w-1");
  assert.equal(latest?.thread.status, "succeeded", JSON.stringify(latest?.thread.error));
});

test("history before the first commit holds the start's events (GET history reads the summary)", async () => {
  const stack = memoryStack({
    workflows: [{ file: "order.yaml", source: SOURCE }],
    activities: { validate: () => true, check: () => "ok", combine: () => "approved" },
  });
  await stack.runtime.startExecution("Order", { n: 1 }, { id: "h-1" });
  const view = await stack.execution("h-1");
  assert.equal(view?.version, 0, "no step yet: the view is the summary");
  const page = await readHistory(
    stack.store,
    stack.runtime.codec,
    header("h-1"),
    100,
    undefined,
    Number.POSITIVE_INFINITY,
    view,
  );
  assert.deepEqual(
    page.items.map((e) => e.type),
    ["ExecutionStarted", "StateEntered", "ActivityScheduled"],
  );
  await stack.drain();
  const after = await readHistory(stack.store, stack.runtime.codec, header("h-1"), 100);
  assert.equal(after.items.filter((e) => e.type === "ExecutionStarted").length, 1);
});
