/**
 * The simulation itself (test/support/chaos.ts): it replays a seed exactly, its
 * consumers really interleave, duplicates really overlap their first copy, a slow
 * invocation is killed at its function's timeout and its message comes back after
 * the visibility timeout, the DLQ is reached after 5 receives, planned crashes hit
 * where they are planned, the reconciler is used when the runtime has one, and the
 * global timers it borrows are given back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Runtime } from "../../lib/runtime/runtime.ts";
import { crashAtWrite, type SimActivity, Simulation } from "../support/chaos.ts";
import { ACTIVITIES, simulate } from "../support/sim-kit.ts";

const FAN = {
  file: "fan.yaml",
  source: `name: Fan
states:
  - name: P
    type: Parallel
    branches:
${[0, 1, 2, 3].map((i) => `      - { name: B${i}, type: Task, resource: "urn:cascade:activity:work", parameters: { t: ${i}, ms: 1000 }, result: $.b${i} }`).join("\n")}
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`,
};
const SLOW = {
  file: "slow.yaml",
  source: `name: Slow
states:
  - { name: T, type: Task, resource: "urn:cascade:activity:hang", end: true }
`,
};
const HANG: Record<string, SimActivity> = {
  hang: async (_input: unknown, ctx) => {
    await ctx.sleep(3_600_000);
    return null;
  },
};

test("a seed replays exactly: same deliveries, same calls, same report", async () => {
  const once = async () => {
    const run = await simulate(
      {
        seed: 42,
        workflows: [FAN],
        activities: ACTIVITIES,
        consumers: 4,
        latencyMs: 3,
        faults: { crash: 0.05, duplicate: 0.2, lostDelete: 0.1, jitterMs: 30, partialSend: 0.2 },
      },
      (sim) => sim.startExecution("Fan", {}, { id: "r", retries: 5 }),
      [{ id: "r" }],
    );
    return {
      report: run.report,
      deliveries: run.sim.deliveryLog.map((d) => `${d.at}:${d.container}:${d.mid}:${d.fate}`),
      calls: run.sim.calls.map((c) => `${c.startedAt}:${c.key}:${c.run}`),
    };
  };
  const a = await once();
  const b = await once();
  assert.ok(a.report.crashes > 0, "the seed crashed something");
  assert.deepEqual(b, a);
});

test("K consumers run one execution's branches at the same time", async () => {
  const run = await simulate(
    { seed: 1, workflows: [FAN], activities: ACTIVITIES, consumers: 4, batchSize: 1 },
    (sim) => sim.startExecution("Fan", {}, { id: "k" }),
    [{ id: "k" }],
  );
  const branches = run.sim.calls.filter((c) => /^B\d$/.test(c.state));
  assert.equal(branches.length, 4);
  assert.equal(new Set(branches.map((c) => c.container)).size, 4, "four processes ran them");
  const lastStart = Math.max(...branches.map((c) => c.startedAt));
  const firstEnd = Math.min(...branches.map((c) => c.endedAt ?? Number.POSITIVE_INFINITY));
  assert.ok(lastStart < firstEnd, "every branch started before any finished");
  assert.deepEqual(run.problems, []);
});

test("a duplicate reaches another consumer while its first copy still runs, both with receive count 1", async () => {
  const run = await simulate(
    {
      seed: 3,
      workflows: [FAN],
      activities: ACTIVITIES,
      consumers: 8,
      batchSize: 1,
      faults: { duplicate: 1 },
    },
    (sim) => sim.startExecution("Fan", {}, { id: "d" }),
    [{ id: "d" }],
  );
  const byMid = new Map<string, typeof run.sim.deliveryLog>();
  for (const d of run.sim.deliveryLog) byMid.set(d.mid, [...(byMid.get(d.mid) ?? []), d]);
  const pair = [...byMid.values()].find(
    (list) =>
      list.filter((d) => d.receiveCount === 1).length >= 2 &&
      new Set(list.map((d) => d.container)).size >= 2,
  );
  assert.ok(pair, "some message was delivered twice with receive count 1, to two processes");
  const [first, second] = pair;
  assert.ok(first && second && first.container !== second.container, "to two processes");
  assert.ok(
    Math.abs(second.at - first.at) < 1_000,
    `the copies overlapped (+${first.at - run.sim.start} and +${second.at - run.sim.start} ms; activities take 1 s)`,
  );
});

test("an invocation past its function's timeout is killed; its message comes back after the visibility timeout; 5 receives end in the DLQ", async () => {
  const sim = new Simulation({
    seed: 5,
    workflows: [SLOW],
    activities: HANG,
    functionTimeoutMs: 60_000,
    visibilityTimeoutMs: 360_000,
  });
  sim.startExecution("Slow", {}, { id: "s" });
  const report = await sim.run();
  assert.equal(report.kills, 5, "each of the 5 deliveries was killed at 60 s");
  const at = sim.deliveryLog.map((d) => Math.round((d.at - sim.start) / 1000));
  assert.deepEqual(
    at.map((t, i) => (i === 0 ? t : t - (at[i - 1] ?? 0))),
    [0, 360, 360, 360, 360],
    "redelivered a visibility timeout after each receive",
  );
  assert.deepEqual(
    sim.deliveryLog.map((d) => d.fate),
    ["timeout", "timeout", "timeout", "timeout", "timeout"],
  );
  assert.equal(sim.dead.length, 1, "then dead-lettered");
  assert.equal(sim.dead[0]?.handled, true, "and runtime.deadLetter handled it");
  assert.equal(sim.dead[0]?.unlucky, false, "kills are not injected faults");
  const { view } = await sim.result("default", "s");
  assert.notEqual(view?.thread.status, "running", "the dead letter ended the execution");
  assert.ok(
    sim.calls.every((c) => c.endedAt === undefined),
    "no killed activity returned",
  );
});

test("a planned crash fires once, where planned; a crashed HTTP call is retried by its client", async () => {
  const crash = crashAtWrite({ n: 1, phase: "after", role: "api" });
  const run = await simulate(
    { seed: 7, workflows: [FAN], activities: ACTIVITIES, plan: crash.plan },
    (sim) => sim.startExecution("Fan", {}, { id: "c", retries: 2 }),
    [{ id: "c" }],
  );
  assert.ok(crash.fired());
  assert.equal(run.report.crashes, 1);
  const call = run.sim.http[0];
  assert.deepEqual(
    call?.attempts.map((a) => a.outcome),
    ["crash", "ok"],
  );
  const planned = await simulate(
    { seed: 7, workflows: [FAN], activities: ACTIVITIES },
    (sim) => sim.startExecution("Fan", {}, { id: "p", crash: { beforeWrite: 1 } }),
    [],
  );
  assert.deepEqual(
    planned.sim.http[0]?.attempts.map((a) => a.outcome),
    ["crash"],
  );
  assert.equal((await planned.sim.result("default", "p")).view, undefined, "nothing was written");
});

test("setTimeout, clearTimeout and Math.random are the simulation's only inside it, and given back", async () => {
  const before = [globalThis.setTimeout, globalThis.clearTimeout, Math.random];
  let inside: unknown;
  const run = await simulate(
    {
      seed: 9,
      workflows: [SLOW],
      activities: {
        hang: async (_input: unknown, ctx) => {
          inside = await new Promise((resolve) => setTimeout(() => resolve(ctx.now()), 5_000));
          return null;
        },
      },
    },
    (sim) => sim.startExecution("Slow", {}, { id: "t" }),
    [{ id: "t" }],
  );
  assert.deepEqual([globalThis.setTimeout, globalThis.clearTimeout, Math.random], before);
  assert.ok(
    typeof inside === "number" && inside - run.sim.start >= 5_000,
    "a 5 s timer fired in virtual time",
  );
  assert.deepEqual(run.problems, []);
});

test("with a reconciler (runtime.reconcile), the simulation runs it when nothing else moves", async () => {
  // The runtime's own reconciler when it has one (counted), else a stub that repairs nothing.
  const proto = Runtime.prototype as unknown as {
    reconcile?: (...args: unknown[]) => Promise<unknown>;
  };
  const real = proto.reconcile;
  let calls = 0;
  proto.reconcile = async function (this: Runtime, ...args: unknown[]) {
    calls++;
    return real?.apply(this, args);
  };
  try {
    const sim = new Simulation({
      seed: 11,
      workflows: [FAN],
      activities: ACTIVITIES,
      reconcileRounds: 3,
    });
    assert.equal(sim.hasReconciler, true);
    // The start dies after its record is written, before its messages are sent: stuck.
    sim.startExecution("Fan", {}, { id: "rc", crash: { afterWrite: 2 } });
    const report = await sim.run();
    assert.ok(report.settled, report.reason);
    assert.ok(calls >= 1, "the reconciler ran");
    assert.equal(report.reconcilerRounds, calls);
    if (!real) assert.equal(calls, 3, "a stub repairs nothing: rounds until the cap");
    else assert.equal((await sim.result("default", "rc")).view?.thread.status, "succeeded");
  } finally {
    if (real) proto.reconcile = real;
    else delete proto.reconcile;
  }
});
