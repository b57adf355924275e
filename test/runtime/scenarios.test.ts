/**
 * The untested scenarios of the reliability review (shared/reviews/reliability.md,
 * section (b)), each as a named test on the virtual-time simulation
 * (test/support/chaos.ts): numbered as in the review, with the demonstration
 * they pin (F1–F8, G1–G7). Crash windows are swept — one run per write, the
 * process dying just before and just after it — so the tests hold whatever
 * writes the runtime makes. Every run also checks every invariant
 * (test/support/invariants.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dynamoValueBytes } from "../../lib/adapters/memory/limits.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type { HttpOptions, SimActivity } from "../support/chaos.ts";
import { type ExecutionExpectation, withoutRuns } from "../support/invariants.ts";
import {
  ACTIVITIES,
  assertNoFailures,
  endedAs,
  fail,
  oneOf,
  type Run,
  simulate,
  succeededWith,
  sweepWrites,
} from "../support/sim-kit.ts";

const wf = (source: string) => {
  const name = /^name: (\S+)/m.exec(source)?.[1] ?? "W";
  return { file: `${name}.yaml`, source };
};

const problemsOf = (run: Run) => run.problems.map((p) => `- ${p}`).join("\n");
function assertNone(problems: readonly string[], run: Run): void {
  if (problems.length > 0)
    assert.fail(
      `${problems
        .slice(0, 14)
        .map((p) => `- ${p}`)
        .join(
          "\n",
        )}${problems.length > 14 ? `\n- … and ${problems.length - 14} more` : ""}\n(run: ${run.sim.describe()})`,
    );
}
function assertClean(run: Run, label = ""): void {
  assert.equal(
    run.problems.length,
    0,
    `${label}${label ? ": " : ""}\n${problemsOf(run)}\n(run: ${run.sim.describe()})`,
  );
}

// ---------------------------------------------------------------------------
// 1. A record-less branch re-run with a different outcome (F4)

const TWO_BRANCHES = wf(`name: TwoBranches
states:
  - name: Fan
    type: Parallel
    branches:
      - { name: X, type: Task, resource: "urn:cascade:activity:fickle", parameters: { t: x }, retry: { errors: [Transient], max_attempts: 5, interval: 1s }, result: $.x }
      - { name: Y, type: Task, resource: "urn:cascade:activity:fickle", parameters: { t: y }, retry: { errors: [Transient], max_attempts: 5, interval: 1s }, result: $.y }
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);
const TWO_BRANCHES_OUTPUT = { x: { h: "x" }, y: { h: "y" }, after: { h: "after" } };

test("1 (F4): a redelivered record-less branch whose re-run fails, then retries, still continues the parent exactly once", async () => {
  const failures: string[] = [];
  for (const [batches, fault] of [
    [true, "crash"],
    [false, "crash"],
    // The review's variant: a write in finishBatch throws (after the join's write), no crash.
    [true, "error"],
  ] as const) {
    const { failures: found } = await sweepWrites(
      batches ? "processBatch" : "one by one",
      12,
      (plan) =>
        simulate(
          { seed: 1, workflows: [TWO_BRANCHES], activities: ACTIVITIES, batches, plan },
          (sim) => sim.startExecution("TwoBranches", {}, { id: "f4" }),
          [{ id: "f4", outcome: succeededWith(TWO_BRANCHES_OUTPUT) }],
        ),
      // The window opens once both branches' first runs returned: the join's last report and
      // the parent's continuation are what the crash interrupts.
      {
        role: "engine",
        when: (sim) =>
          sim.calls.filter((c) => c.activity === "fickle" && c.endedAt !== undefined).length >= 2,
        fault,
      },
    );
    failures.push(...found);
  }
  assertNoFailures(failures, "fault points after both branches ran");
});

// ---------------------------------------------------------------------------
// 2. Crashes on the HTTP path after start, signal and cancel commit (F2, G1, F3)

const APPROVAL = wf(`name: Approval
states:
  - { name: A, type: Task, resource: "urn:cascade:activity:work", parameters: { t: a }, result: $.a, next: W }
  - { name: W, type: WaitForEvent, event: go, result: $.go, next: B }
  - { name: B, type: Task, resource: "urn:cascade:activity:work", parameters: { t: b }, result: $.b, end: true }
`);

async function httpSweep(
  label: string,
  retries: number,
  run: (http: HttpOptions) => Promise<Run>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const phase of ["beforeWrite", "afterWrite"] as const) {
    for (let n = 1; n <= 12; n++) {
      const result = await run({
        retries,
        retryDelayMs: 2_000,
        crash: phase === "beforeWrite" ? { beforeWrite: n } : { afterWrite: n },
      });
      const call = result.sim.http.find((c) => c.attempts[0]?.outcome === "crash");
      if (!call) break; // the call makes fewer than n writes
      if (result.problems.length > 0)
        failures.push(`${label}, crash ${phase} ${n}: ${result.problems.join("; ")}`);
    }
  }
  return failures;
}

/** What an event must have done once delivered: the payload in the output, one EventReceived. */
function deliveredOnce(payload: JsonValue) {
  return (outcome: Parameters<NonNullable<ExecutionExpectation["outcome"]>>[0]) => {
    const verdict = succeededWith({ a: { h: "a" }, go: payload, b: { h: "b" } })(outcome);
    if (verdict) return verdict;
    const received = outcome.history.filter((e) => e.type === "EventReceived").length;
    return received === 1 ? undefined : `EventReceived is in its history ${received} times`;
  };
}

function signalRun(retries: number, http: HttpOptions): Promise<Run> {
  return simulate(
    { seed: 2, workflows: [APPROVAL], activities: ACTIVITIES },
    (sim) => {
      sim.startExecution("Approval", {}, { id: "f2" });
      // At 10 s the thread has long been waiting for `go`.
      sim.signal("default", "f2", "go", { ok: true }, { eventId: "sig-1", at: 10_000, ...http });
    },
    () => {
      // Without a retry, a call that died before its first write was never accepted: the
      // execution still waits for the event, which a person can name.
      const crash = http.crash;
      const nothingLanded =
        retries === 0 && crash !== undefined && "beforeWrite" in crash && crash.beforeWrite === 1;
      return [
        nothingLanded
          ? {
              id: "f2",
              mayRun: true,
              outcome: ({ view }) =>
                view.thread.status === "running" ? undefined : `it ${view.thread.status}`,
            }
          : { id: "f2", outcome: deliveredOnce({ ok: true }) },
      ];
    },
  );
}

test("2a (F2): a signal whose call dies after its commit is delivered exactly once when the client retries", async () => {
  assertNoFailures(
    await httpSweep("signal, client retries", 3, (http) => signalRun(3, http)),
    "crash points of the signal call",
  );
});

test("2a (F2, no retry): a signal whose call dies after its commit is delivered without the client's help (reconciler)", async () => {
  assertNoFailures(
    await httpSweep("signal, no retry", 0, (http) => signalRun(0, http)),
    "crash points of the signal call",
  );
});

const PASS_FIRST = wf(`name: PassFirst
states:
  - name: P
    type: Parallel
    branches:
      - { name: X, type: Pass, value: x, result: $.x }
      - { name: Y, type: Pass, value: y, result: $.y }
    next: T
  - { name: T, type: Task, resource: "urn:cascade:activity:work", parameters: { t: t }, result: $.t, end: true }
`);

function startRun(retries: number, http: HttpOptions): Promise<Run> {
  return simulate(
    { seed: 3, workflows: [PASS_FIRST], activities: ACTIVITIES },
    (sim) => sim.startExecution("PassFirst", {}, { id: "g1", ...http }),
    // Without a retry, a start that died before its record was written created nothing (the
    // caller saw an error): only an execution that exists must complete.
    (sim) =>
      retries > 0 || sim.tracked[0]?.last !== undefined
        ? [{ id: "g1", outcome: succeededWith({ x: "x", y: "y", t: { h: "t" } }) }]
        : [],
  );
}

test("2b (G1): a start whose first step moves past its first version, dying before its sends, completes when the client retries", async () => {
  assertNoFailures(
    await httpSweep("start, client retries", 3, (http) => startRun(3, http)),
    "crash points of the start call",
  );
});

test("2b (G1, no retry): a start that dies after its commit completes without the client's help (reconciler)", async () => {
  assertNoFailures(
    await httpSweep("start, no retry", 0, (http) => startRun(0, http)),
    "crash points of the start call",
  );
});

const WAITS = wf(`name: Waits
states:
  - name: Fan
    type: Parallel
    branches:
      - name: L
        states:
          - { name: LW, type: Wait, duration: 1h, next: LT }
          - { name: LT, type: Task, resource: "urn:cascade:activity:work", parameters: { t: l }, end: true }
      - name: R
        states:
          - { name: RW, type: Wait, duration: 1h, next: RT }
          - { name: RT, type: Task, resource: "urn:cascade:activity:work", parameters: { t: r }, end: true }
    next: Done
  - { name: Done, type: Task, resource: "urn:cascade:activity:work", parameters: { t: done }, result: $.done, end: true }
`);

function cancelRun(retries: number, http: HttpOptions): Promise<Run> {
  return simulate(
    { seed: 4, workflows: [WAITS], activities: ACTIVITIES },
    (sim) => {
      sim.startExecution("Waits", {}, { id: "f3" });
      sim.cancel("default", "f3", "the customer changed their mind", { at: 60_000, ...http });
    },
    (sim) => {
      const committed = sim.tracked[0]?.cancelledAt !== undefined;
      return [
        {
          id: "f3",
          outcome: (outcome) => {
            if (retries > 0 || committed) {
              const verdict = endedAs("cancelled")(outcome);
              if (verdict) return verdict;
              return outcome.calls.length === 0
                ? undefined
                : `${outcome.calls.length} branch activities ran after the cancel: ${outcome.calls.map((c) => c.key).join(", ")}`;
            }
            // The cancel never committed (the call died first) and no one retried it.
            return undefined;
          },
        },
      ];
    },
  );
}

test("2c (F3): a cancel whose call dies after the root's commit cancels the join, and no branch activity runs, when the client retries", async () => {
  assertNoFailures(
    await httpSweep("cancel, client retries", 3, (http) => cancelRun(3, http)),
    "crash points of the cancel call",
  );
});

test("2c (F3, no retry): a cancel whose call dies after the root's commit finishes cancelling without the client's help (reconciler)", async () => {
  assertNoFailures(
    await httpSweep("cancel, no retry", 0, (http) => cancelRun(0, http)),
    "crash points of the cancel call",
  );
});

// ---------------------------------------------------------------------------
// 3. Bounded message ids (F1, F1b), scaled to seconds

const POLL = wf(`name: Poll
states:
  - { name: Check, type: Task, resource: "urn:cascade:activity:poll", parameters: { i: "{{ $.i }}" }, result: $.i, next: Enough }
  - name: Enough
    type: Choice
    choices:
      - { condition: "{{ $.i >= $.n }}", next: Done }
    default: Pause
  - { name: Pause, type: Wait, duration: 5s, next: Check }
  - { name: Done, type: Succeed }
`);
const ONE_AT_A_TIME = wf(`name: OneAtATime
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 1
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:double", parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    end: true
`);
const SIZE_ACTIVITIES: Record<string, SimActivity> = {
  poll: async (input: { i: number }, ctx) => {
    await ctx.sleep(10);
    return input.i + 1;
  },
  double: async (input: { n: number }, ctx) => {
    await ctx.sleep(10);
    return input.n * 2;
  },
};

async function sizes(
  workflow: { file: string; source: string },
  name: string,
  input: JsonValue,
  expected: JsonValue,
) {
  const run = await simulate(
    { seed: 5, workflows: [workflow], activities: SIZE_ACTIVITIES, latencyMs: 0 },
    (sim) => sim.startExecution(name, input, { id: "ids" }),
    [{ id: "ids", outcome: succeededWith(expected) }],
  );
  return run;
}

/** What a longer run may add: `dataBytes` (data that is itself longer), nothing for bookkeeping. */
function growthProblems(what: string, short: Run, long: Run, dataBytes: number): string[] {
  const problems = [
    ...short.problems.map((p) => `short run: ${p}`),
    ...long.problems.map((p) => `long run: ${p}`),
  ];
  const a = short.report;
  const b = long.report;
  if (b.maxMessageIdLength > a.maxMessageIdLength + 8)
    problems.push(
      `the longest message id grew with ${what}: ${a.maxMessageIdLength} chars, then ${b.maxMessageIdLength}`,
    );
  // The data may sit in a record twice (a thread and its join's inputs, or data and output).
  if (b.maxItemBytes > a.maxItemBytes + 2 * dataBytes + 512)
    problems.push(
      `the largest item grew with ${what} beyond its data: ${a.maxItemBytes} bytes, then ${b.maxItemBytes} (the data grew ${dataBytes})`,
    );
  if (b.maxMessageBytes > a.maxMessageBytes + 2 * dataBytes + 512)
    problems.push(
      `the largest message grew with ${what} beyond its data: ${a.maxMessageBytes} bytes, then ${b.maxMessageBytes} (the data grew ${dataBytes})`,
    );
  return problems;
}

test("3 (F1): message ids, items and messages stay bounded over a long loop (40 vs 200 iterations)", async () => {
  const short = await sizes(POLL, "Poll", { i: 0, n: 40 }, { i: 40, n: 40 });
  const long = await sizes(POLL, "Poll", { i: 0, n: 200 }, { i: 200, n: 200 });
  assertNone(growthProblems("the iterations (40, then 200)", short, long, 8), long);
});

test("3 (F1b): message ids, items and messages stay bounded over a Map at max_concurrency 1 (30 vs 200 items)", async () => {
  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ n: i }));
  const out = (n: number) => Array.from({ length: n }, (_, i) => i * 2);
  const short = await sizes(
    ONE_AT_A_TIME,
    "OneAtATime",
    { items: items(30) },
    { items: items(30), out: out(30) },
  );
  const long = await sizes(
    ONE_AT_A_TIME,
    "OneAtATime",
    { items: items(200) },
    { items: items(200), out: out(200) },
  );
  const data =
    dynamoValueBytes({ items: items(200), out: out(200) }) -
    dynamoValueBytes({ items: items(30), out: out(30) });
  assertNone(growthProblems("the items (30, then 200)", short, long, data), long);
});

// ---------------------------------------------------------------------------
// 5. Many consumers on one join, scaled down

const WIDE_MAP = wf(`name: WideMap
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:double", parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    end: true
`);

test("5: a Map of 400 items drained by 20 interleaved consumers ends once, with no dead letter", async () => {
  const items = Array.from({ length: 400 }, (_, n) => ({ n }));
  const failures: string[] = [];
  for (const seed of [1, 2]) {
    const run = await simulate(
      {
        seed,
        workflows: [WIDE_MAP],
        activities: SIZE_ACTIVITIES,
        consumers: 20,
        latencyMs: 5,
        maxReceiveCount: 5,
      },
      (sim) => sim.startExecution("WideMap", { items }, { id: "wide" }),
      [{ id: "wide", outcome: succeededWith({ items, out: items.map(({ n }) => n * 2) }) }],
    );
    const conflicts = run.sim.errors.filter((e) => e.includes("kept changing")).length;
    if (run.problems.length > 0)
      failures.push(
        `seed ${seed} (${conflicts} "kept changing" failures): ${run.problems.join("; ")}`,
      );
  }
  assertNoFailures(failures, "seeds");
});

// ---------------------------------------------------------------------------
// 6. Concurrent duplicate copies of one message

test("6: duplicate copies delivered together (both receive count 1) commit once; each attempt runs at most twice; the output is one of theirs", async () => {
  const failures: string[] = [];
  for (let seed = 1; seed <= 12; seed++) {
    const run = await simulate(
      {
        seed,
        workflows: [TWO_BRANCHES],
        activities: { ...ACTIVITIES, fickle: ACTIVITIES.work as SimActivity },
        consumers: 3,
        latencyMs: 3,
        faults: { duplicate: 1 },
      },
      (sim) => sim.startExecution("TwoBranches", {}, { id: "dup" }),
      [{ id: "dup", outcome: succeededWith(TWO_BRANCHES_OUTPUT) }],
    );
    const problems = [...run.problems];
    const perKey = new Map<string, number>();
    for (const call of run.sim.calls) perKey.set(call.key, (perKey.get(call.key) ?? 0) + 1);
    for (const [key, n] of perKey) if (n > 2) problems.push(`${key} ran ${n} times`);
    const firsts = new Map<string, number>();
    for (const d of run.sim.deliveryLog)
      if (d.receiveCount === 1) firsts.set(d.mid, (firsts.get(d.mid) ?? 0) + 1);
    if (![...firsts.values()].some((n) => n >= 2))
      problems.push("no message was delivered twice with receive count 1 (the scenario's premise)");
    if (problems.length > 0) failures.push(`seed ${seed}: ${problems.join("; ")}`);
  }
  assertNoFailures(failures, "seeds");
});

// ---------------------------------------------------------------------------
// 7. Races: cancel against the last branch, the workflow timeout against the last Task

const RACE_CANCEL = wf(`name: RaceCancel
states:
  - name: Fan
    type: Parallel
    branches:
      - { name: X, type: Task, resource: "urn:cascade:activity:work", parameters: { t: x, ms: 1000 }, result: $.x }
      - { name: Y, type: Task, resource: "urn:cascade:activity:work", parameters: { t: y, ms: 1020 }, result: $.y }
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after, ms: 50 }, result: $.after, end: true }
`);

test("7 (cancel): a cancel racing the last branch's report ends the execution once, and nothing continues after the cancel", async () => {
  const failures: string[] = [];
  for (let at = 1_000; at <= 1_090; at += 3) {
    const run = await simulate(
      { seed: at, workflows: [RACE_CANCEL], activities: ACTIVITIES, consumers: 3, latencyMs: 2 },
      (sim) => {
        sim.startExecution("RaceCancel", {}, { id: "race" });
        sim.cancel("default", "race", "racing", { at });
      },
      (sim) => [
        {
          id: "race",
          outcome: oneOf(endedAs("cancelled"), (outcome) =>
            (sim.http[1]?.value as { outcome?: string } | undefined)?.outcome === "ended"
              ? succeededWith({ x: { h: "x" }, y: { h: "y" }, after: { h: "after" } })(outcome)
              : "it succeeded though the cancel call said it cancelled it",
          ),
        },
      ],
    );
    if (run.problems.length > 0) failures.push(`cancel at +${at} ms: ${run.problems.join("; ")}`);
  }
  assertNoFailures(failures, "cancel times");
});

const DEADLINE = wf(`name: Deadline
timeout: 10s
states:
  - { name: Slow, type: Task, resource: "urn:cascade:activity:work", parameters: { t: slow, ms: "{{ $.ms }}" }, result: $.slow, end: true }
`);

test("7 (timeout): the workflow timeout racing the final Task's commit ends the execution once, as one of the two", async () => {
  const failures: string[] = [];
  for (let ms = 9_940; ms <= 10_060; ms += 4) {
    const run = await simulate(
      { seed: ms, workflows: [DEADLINE], activities: ACTIVITIES, consumers: 2, latencyMs: 2 },
      (sim) => sim.startExecution("Deadline", { ms }, { id: "deadline" }),
      [
        {
          id: "deadline",
          outcome: oneOf(
            succeededWith({ ms, slow: { h: "slow" } }),
            endedAs("failed", "Cascade.Timeout"),
          ),
        },
      ],
    );
    if (run.problems.length > 0) failures.push(`a Task of ${ms} ms: ${run.problems.join("; ")}`);
  }
  assertNoFailures(failures, "Task durations");
});

// ---------------------------------------------------------------------------
// 8. Cancellation stops queued work (G2, G6)

const RETRY_LATER = wf(`name: RetryLater
states:
  - { name: Charge, type: Task, resource: "urn:cascade:activity:decline_once", parameters: { t: c }, retry: { errors: [Declined], max_attempts: 3, interval: 10m }, result: $.c, end: true }
`);

test("8 (G2): a cancel during a delayed retry stops the retry: no activity runs after the cancel commits", async () => {
  const run = await simulate(
    {
      seed: 8,
      workflows: [RETRY_LATER],
      activities: {
        decline_once: async (_input: unknown, ctx) => {
          await ctx.sleep(50);
          if (ctx.attempt === 1) throw fail("Declined", "card declined");
          return { charged: true };
        },
      },
    },
    (sim) => {
      sim.startExecution("RetryLater", {}, { id: "g2" });
      sim.cancel("default", "g2", "stop charging", { at: 60_000 });
    },
    [
      {
        id: "g2",
        outcome: (outcome) =>
          endedAs("cancelled")(outcome) ??
          (outcome.calls.length === 1
            ? undefined
            : `the activity ran ${outcome.calls.length} times (attempts ${outcome.calls.map((c) => c.attempt).join(", ")})`),
      },
    ],
  );
  assertClean(run);
});

const LAZY_MAP = wf(`name: LazyMap
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:work", parameters: { t: "{{ $.n }}", ms: 1000 }, end: true }
    result: $.out
    end: true
`);

test("8 (G6): a cancel while 200 lazy Map runs are queued: none of them starts after the cancel commits", async () => {
  const items = Array.from({ length: 200 }, (_, n) => ({ n }));
  const run = await simulate(
    { seed: 6, workflows: [LAZY_MAP], activities: ACTIVITIES, consumers: 1, batchSize: 10 },
    (sim) => {
      sim.startExecution("LazyMap", { items }, { id: "g6" });
      sim.cancel("default", "g6", "stop", { at: 500 });
    },
    [{ id: "g6", outcome: endedAs("cancelled") }],
  );
  assertClean(run);
});

// ---------------------------------------------------------------------------
// 9. Worker heartbeats (F6)

const REMOTE = wf(`name: Remote
states:
  - { name: Fulfil, type: Task, resource: "urn:cascade:activity:beat@us-east", heartbeat: 2s, timeout: 30s, result: $.f, end: true }
`);
const BEAT: Record<string, SimActivity> = {
  beat: async (_input: unknown, ctx) => {
    for (let i = 0; i < 5; i++) {
      await ctx.sleep(1_000);
      ctx.heartbeat();
    }
    return { beats: 5 };
  },
};

test("9 (F6): a worker Task with heartbeat: 2s whose activity heartbeats every second for 5 s succeeds", async () => {
  const run = await simulate(
    { seed: 9, workflows: [REMOTE], activities: BEAT, workerRegions: ["us-east"] },
    (sim) => sim.startExecution("Remote", {}, { id: "f6" }),
    [{ id: "f6", outcome: succeededWith({ f: { beats: 5 } }) }],
  );
  assertClean(run);
});

test("9 (control): the same heartbeating Task run inline succeeds", async () => {
  const run = await simulate(
    { seed: 9, workflows: [REMOTE], activities: BEAT },
    (sim) => sim.startExecution("Remote", {}, { id: "f6-inline" }),
    [{ id: "f6-inline", outcome: succeededWith({ f: { beats: 5 } }) }],
  );
  assertClean(run);
});

// ---------------------------------------------------------------------------
// 10. The function killed mid-activity

const LONG_TASK = wf(`name: LongTask
states:
  - name: Long
    type: Task
    resource: "urn:cascade:activity:long"
    timeout: 120s
    catch: [{ errors: [Cascade.Timeout], result: $.error, next: Fallback }]
    result: $.long
    next: Done
  - { name: Fallback, type: Pass, value: fell-back, result: $.path, next: Done }
  - { name: Done, type: Succeed }
`);

test("10: a 90 s activity under a 60 s function timeout, with timeout: 120s and a catch of Cascade.Timeout, takes the catch", async () => {
  const run = await simulate(
    {
      seed: 10,
      workflows: [LONG_TASK],
      activities: {
        long: async (_input: unknown, ctx) => {
          await ctx.sleep(90_000);
          return { done: true };
        },
      },
      functionTimeoutMs: 60_000,
      maxReceiveCount: 5,
    },
    (sim) => sim.startExecution("LongTask", {}, { id: "kill" }),
    [
      {
        id: "kill",
        outcome: (outcome) => {
          const verdict = endedAs("succeeded")(outcome);
          if (verdict) return verdict;
          const out = outcome.output as { path?: string; error?: { name?: string } };
          return out.path === "fell-back" && out.error?.name === "Cascade.Timeout"
            ? undefined
            : `expected the catch of Cascade.Timeout, got ${JSON.stringify(out).slice(0, 200)}`;
        },
      },
    ],
  );
  assertClean(run);
});

// ---------------------------------------------------------------------------
// 11. Large Map items (G3)

const BIG_ITEMS = wf(`name: BigItems
states:
  - { name: Make, type: Task, resource: "urn:cascade:activity:make_items", parameters: { count: 3, bytes: "{{ $.bytes }}" }, result: $.items, next: Each }
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Measure, type: Task, resource: "urn:cascade:activity:measure", end: true }
    result: $.sizes
    next: Drop
  - { name: Drop, type: Pass, value: dropped, result: $.items, end: true }
`);
const BIG_ACTIVITIES: Record<string, SimActivity> = {
  make_items: async (input: { count: number; bytes: number }, ctx) => {
    await ctx.sleep(10);
    return Array.from({ length: input.count }, (_, i) => ({ i, pad: "x".repeat(input.bytes) }));
  },
  measure: async (input: { i: number; pad: string }, ctx) => {
    await ctx.sleep(10);
    return { i: input.i, length: input.pad.length };
  },
};

for (const kb of [150, 450]) {
  test(`11 (G3): Map items of ${kb} KB: every message within 256 KiB and every item within 400 KB`, async () => {
    const bytes = kb * 1000;
    const run = await simulate(
      { seed: 11, workflows: [BIG_ITEMS], activities: BIG_ACTIVITIES },
      (sim) => sim.startExecution("BigItems", { bytes }, { id: "big" }),
      [
        {
          id: "big",
          outcome: succeededWith({
            bytes,
            items: "dropped",
            sizes: [0, 1, 2].map((i) => ({ i, length: bytes })),
          }),
        },
      ],
    );
    assertClean(run);
  });
}

// ---------------------------------------------------------------------------
// 12. A poison message fails what it concerns, not the execution

const POISON_ITEM = wf(`name: PoisonItem
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    tolerated_failures: 1
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:maybe_hang", parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);
const POISON_BRANCH = wf(`name: PoisonBranch
states:
  - name: Fan
    type: Parallel
    branches:
      - { name: Good, type: Task, resource: "urn:cascade:activity:work", parameters: { t: good }, result: $.good }
      - { name: Bad, type: Task, resource: "urn:cascade:activity:maybe_hang", parameters: { n: 2 }, result: $.bad }
    catch: [{ errors: [ALL], result: $.caught, next: Recover }]
    next: Done
  - { name: Recover, type: Task, resource: "urn:cascade:activity:work", parameters: { t: recovered }, result: $.recovered, next: Done }
  - { name: Done, type: Succeed }
`);
/** Item 2 never finishes within the function's timeout: its message kills every invocation it is in. */
const HANG: Record<string, SimActivity> = {
  ...ACTIVITIES,
  maybe_hang: async (input: { n: number }, ctx) => {
    await ctx.sleep(input.n === 2 ? 3_600_000 : 50);
    return input.n * 2;
  },
};

test("12: a poison message of a Map item (tolerated_failures: 1) fails that item only; the execution goes on", async () => {
  const items = Array.from({ length: 5 }, (_, n) => ({ n }));
  const run = await simulate(
    { seed: 12, workflows: [POISON_ITEM], activities: HANG, consumers: 2, batchSize: 1 },
    (sim) => sim.startExecution("PoisonItem", { items }, { id: "poison-item" }),
    [
      {
        id: "poison-item",
        outcome: succeededWith({ items, out: [0, 2, null, 6, 8], after: { h: "after" } }),
      },
    ],
    { expectDeadLetters: true },
  );
  // The dead letter itself is expected here: what it must not do is abort the whole execution.
  assertNone(run.problems, run);
  assert.ok(
    run.sim.dead.length > 0,
    "the hanging item's message was dead-lettered (the scenario's premise)",
  );
});

test("12: on a wide (sharded) join too, a Map item's poison message fails that item only", async () => {
  const items = Array.from({ length: 5 }, (_, n) => ({ n }));
  const run = await simulate(
    {
      seed: 12,
      workflows: [POISON_ITEM],
      activities: HANG,
      consumers: 2,
      batchSize: 1,
      wideJoinFrom: 2,
    },
    (sim) => sim.startExecution("PoisonItem", { items }, { id: "poison-item" }),
    [
      {
        id: "poison-item",
        outcome: succeededWith({ items, out: [0, 2, null, 6, 8], after: { h: "after" } }),
      },
    ],
    { expectDeadLetters: true },
  );
  assertNone(run.problems, run);
  assert.ok(run.sim.dead.length > 0, "the hanging item's message was dead-lettered");
});

test("12: a poison message of a Parallel branch is caught by the Parallel's catch; the root is not aborted", async () => {
  const run = await simulate(
    { seed: 12, workflows: [POISON_BRANCH], activities: HANG, consumers: 2, batchSize: 1 },
    (sim) => sim.startExecution("PoisonBranch", {}, { id: "poison-branch" }),
    [
      {
        id: "poison-branch",
        outcome: (outcome) => {
          const verdict = endedAs("succeeded")(outcome);
          if (verdict) return verdict;
          const out = withoutRuns(outcome.output, outcome.calls) as { recovered?: unknown };
          return JSON.stringify(out.recovered) === JSON.stringify({ h: "recovered" })
            ? undefined
            : `expected the catch path, got ${JSON.stringify(out).slice(0, 200)}`;
        },
      },
    ],
    { expectDeadLetters: true },
  );
  assertNone(run.problems, run);
  assert.ok(
    run.sim.dead.length > 0,
    "the hanging branch's message was dead-lettered (the scenario's premise)",
  );
});

// ---------------------------------------------------------------------------
// 13. One oversized message in a batch with nine other executions' messages

const AT_TEN = "2026-01-01T00:00:10Z";
const SMALL = wf(`name: Small
states:
  - { name: Pause, type: Wait, until: "${AT_TEN}", next: T }
  - { name: T, type: Task, resource: "urn:cascade:activity:work", parameters: { t: "{{ $.k }}" }, result: $.t, end: true }
`);
const OVERSIZED = wf(`name: Oversized
states:
  - { name: Pause, type: Wait, until: "${AT_TEN}", next: Each }
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:measure", end: true }
    result: $.sizes
    end: true
`);

test("13: a message over 256 KiB in a batch with nine other executions' messages: none of the nine is redelivered or dead-lettered", async () => {
  const run = await simulate(
    {
      seed: 13,
      workflows: [SMALL, OVERSIZED],
      activities: { ...ACTIVITIES, ...BIG_ACTIVITIES },
      consumers: 1,
      batchSize: 10,
    },
    (sim) => {
      sim.startExecution(
        "Oversized",
        { items: [{ i: 0, pad: "x".repeat(150_000) }] },
        { id: "poison" },
      );
      for (let k = 1; k <= 9; k++) sim.startExecution("Small", { k }, { id: `small-${k}` });
    },
    [
      {
        id: "poison",
        // A size limit reached anyway is a coded workflow error, never a dead letter.
        outcome: oneOf(
          succeededWith({
            items: [{ i: 0, pad: "x".repeat(150_000) }],
            sizes: [{ i: 0, length: 150_000 }],
          }),
          endedAs("failed", "Cascade.PayloadTooLarge"),
        ),
      },
      ...Array.from({ length: 9 }, (_, i) => ({
        id: `small-${i + 1}`,
        outcome: succeededWith({ k: i + 1, t: { h: i + 1 } }),
      })),
    ],
  );
  const problems = [...run.problems];
  const batchOfTen = run.sim.deliveryLog.some(
    (d) =>
      d.at >= run.sim.start + 10_000 &&
      run.sim.deliveryLog.filter((e) => e.at === d.at).length === 10,
  );
  if (!batchOfTen)
    problems.push("the ten timers were not delivered in one batch (the scenario's premise)");
  for (const delivery of run.sim.deliveryLog) {
    if (delivery.executionId !== "poison" && delivery.fate !== "deleted")
      problems.push(
        `${delivery.executionId}'s ${delivery.kind} message (delivery ${delivery.receiveCount}) was ${delivery.fate}`,
      );
  }
  assertNone(problems, run);
});

// ---------------------------------------------------------------------------
// 17. Idempotency keys across tenants (G4)

const PAY = wf(`name: Pay
states:
  - { name: Charge, type: Task, resource: "urn:cascade:activity:charge", parameters: { amount: "{{ $.amount }}" }, result: $.charged, end: true }
`);

test("17 (G4): the same execution id in two tenants gives their activities different idempotency keys", async () => {
  const run = await simulate(
    {
      seed: 17,
      workflows: [PAY],
      activities: {
        charge: async (input: { amount: number }, ctx) => {
          await ctx.sleep(20);
          return { amount: input.amount };
        },
      },
    },
    (sim) => {
      sim.startExecution("Pay", { amount: 10 }, { id: "order-1", tenant: "acme" });
      sim.startExecution("Pay", { amount: 20 }, { id: "order-1", tenant: "globex" });
    },
    [
      {
        tenant: "acme",
        id: "order-1",
        outcome: succeededWith({ amount: 10, charged: { amount: 10 } }),
      },
      {
        tenant: "globex",
        id: "order-1",
        outcome: succeededWith({ amount: 20, charged: { amount: 20 } }),
      },
    ],
  );
  const keys = new Set(run.sim.calls.map((c) => c.key));
  assert.equal(
    keys.size,
    2,
    `two tenants' attempts share the key ${[...keys].join(", ")} (a payment provider would drop one charge)`,
  );
  assertClean(run);
});

// ---------------------------------------------------------------------------
// 18. Timers of a moved-on token (G5)

const QUICK = (timeout: string) =>
  wf(`name: Quick${timeout ? `\ntimeout: ${timeout}` : ""}
states:
  - { name: T, type: Task, resource: "urn:cascade:activity:work", parameters: { t: q, ms: 10 }, result: $.t, end: true }
`);

test("18 (G5): a workflow with timeout: 7d that ends at once costs at most 2 more deliveries than one without", async () => {
  const deliveries = async (timeout: string) => {
    const run = await simulate(
      { seed: 18, workflows: [QUICK(timeout)], activities: ACTIVITIES },
      (sim) => sim.startExecution("Quick", {}, { id: "g5" }),
      [{ id: "g5", outcome: succeededWith({ t: { h: "q" } }) }],
    );
    assertClean(run, `timeout ${timeout || "none"}`);
    return run.report.deliveries;
  };
  const without = await deliveries("");
  const withTimeout = await deliveries("7d");
  assert.ok(
    withTimeout - without <= 2,
    `the ended execution's 7-day timeout still cost ${withTimeout - without} deliveries (${withTimeout} against ${without})`,
  );
});

// ---------------------------------------------------------------------------
// 21. History under crashes

const FOUR_BRANCHES = wf(`name: FourBranches
states:
  - name: Fan
    type: Parallel
    branches:
${[0, 1, 2, 3].map((i) => `      - { name: B${i}, type: Task, resource: "urn:cascade:activity:work", parameters: { t: ${i} }, result: $.b${i} }`).join("\n")}
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);
const FOUR_OUTPUT = {
  b0: { h: 0 },
  b1: { h: 1 },
  b2: { h: 2 },
  b3: { h: 3 },
  after: { h: "after" },
};

test("21: every thread's history stays complete, ordered and free of duplicates under crashes (batches of branches)", async () => {
  const failures: string[] = [];
  const { failures: swept } = await sweepWrites(
    "processBatch",
    16,
    (plan) =>
      simulate(
        { seed: 21, workflows: [FOUR_BRANCHES], activities: ACTIVITIES, batches: true, plan },
        (sim) => sim.startExecution("FourBranches", {}, { id: "hist" }),
        [{ id: "hist", outcome: succeededWith(FOUR_OUTPUT) }],
      ),
    {
      role: "engine",
      when: (sim) => sim.calls.filter((c) => c.endedAt !== undefined).length >= 4,
    },
  );
  failures.push(...swept);
  for (let seed = 1; seed <= 40; seed++) {
    const run = await simulate(
      {
        seed,
        workflows: [FOUR_BRANCHES],
        activities: ACTIVITIES,
        consumers: 2,
        faults: { crash: 0.06, lostDelete: 0.1, duplicate: 0.1 },
      },
      (sim) => sim.startExecution("FourBranches", {}, { id: "hist", retries: 5 }),
      [{ id: "hist", outcome: succeededWith(FOUR_OUTPUT) }],
      { tolerateUnluckyDeadLetters: true },
    );
    const history = run.problems.filter((p) => p.includes("history"));
    if (history.length > 0) failures.push(`random crashes, seed ${seed}: ${history.join("; ")}`);
  }
  assertNoFailures(failures, "runs");
});
