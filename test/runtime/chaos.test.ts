/**
 * Seeded chaos over the runtime (test/support/chaos.ts): per seed, a workflow
 * shape (the seed order workflow, an event and its signal, ANY / AT_LEAST, catch
 * and tolerated failures, worker queues, a wide Map of 200+ items, the workflow
 * timeout racing the last step, a cancel racing the branches, two tenants with one
 * execution id, or a random workflow), one to three executions of it, and a random
 * world: 1–8 consumers, batch sizes, the visibility and function timeouts,
 * latencies, crashes and errors around writes, lost deletes, concurrent duplicates,
 * half-done sends, reordering, offloaded payloads, activities that take time and
 * whose result differs on a re-run. Every invariant is checked on every seed
 * (test/support/invariants.ts); the failures are reported grouped by kind, with
 * the seeds to replay.
 *
 * `npm test` runs CHAOS_SEEDS (default 200) seeds; FUZZ_RUNS=N runs N; CHAOS_FIRST_SEED
 * and CHAOS_SEEDS=1 replay one.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { repoPath, runs } from "../helpers.ts";
import { inputArb, workflowArb } from "../support/arbitrary-workflow.ts";
import {
  type Faults,
  type SimActivity,
  Simulation,
  type SimulationOptions,
} from "../support/chaos.ts";
import {
  brief,
  checkInvariants,
  type ExecutionExpectation,
  type Outcome,
  withoutRuns,
} from "../support/invariants.ts";
import { endedAs, fail, oneOf, simulate, succeededWith } from "../support/sim-kit.ts";

// ---------------------------------------------------------------------------
// Activities: virtual time, results marked with the run that produced them

function hash(value: unknown): number {
  const text = JSON.stringify(value) ?? "";
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const ACTIVITIES: Record<string, SimActivity> = {
  /** `{h: t, run}` after `ms` (default: 10–200 ms from the input). */
  work: async (input: { t: JsonValue; ms?: number }, ctx) => {
    await ctx.sleep(input.ms ?? 10 + (hash(input) % 190));
    return { h: input.t ?? null, run: ctx.run };
  },
  /** Like `work`, but a re-run of an attempt (its second call) throws Transient. */
  fickle: async (input: { t: JsonValue }, ctx) => {
    await ctx.sleep(10 + (hash(input) % 190));
    if (ctx.run === 2) throw fail("Transient", "the provider timed out this time");
    return { h: input.t ?? null, run: ctx.run };
  },
  double: async (input: { n: number }, ctx) => {
    await ctx.sleep(5 + (input.n % 20));
    return input.n * 2;
  },
  /** Fails (not retryable) for items n ≡ 1 (mod 4). */
  brittle: async (input: { n: number }, ctx) => {
    await ctx.sleep(20);
    if (input.n % 4 === 1) throw fail("Broken", `item ${input.n} is broken`, false);
    return { n: input.n, ok: true };
  },
  reject: async (_input: unknown, ctx) => {
    await ctx.sleep(20);
    throw fail("Rejected", "the order was rejected", false);
  },
  // The seed order workflow's activities (examples/order-processing), in virtual time.
  validate_order: async (input: Record<string, JsonValue>, ctx) => {
    await ctx.sleep(30);
    // Only the first attempt's re-run fails: the example allows 3 attempts, and three failed
    // re-runs in a row would be a legitimate failure, not a finding.
    if (ctx.attempt === 1 && ctx.run === 2) throw fail("Transient", "validation service hiccup");
    return { ...input, valid: true, run: ctx.run };
  },
  verify_identity: async (_input: unknown, ctx) => {
    await ctx.sleep(80);
    return { verified: true, run: ctx.run };
  },
  check_credit: async (_input: unknown, ctx) => {
    await ctx.sleep(120);
    return { approved: true, run: ctx.run };
  },
  check_inventory: async (input: { product_ids: string[] }, ctx) => {
    await ctx.sleep(60);
    return { in_stock: true, n: input.product_ids.length, run: ctx.run };
  },
  /** 70 s on its first run (past a 60 s function timeout: killed), 1 s on a re-run. */
  sluggish: async (input: { t: JsonValue }, ctx) => {
    await ctx.sleep(ctx.run === 1 ? 70_000 : 1_000);
    return { h: input.t ?? null, run: ctx.run };
  },
  combine_results: async (input: Record<string, JsonValue>, ctx) => {
    await ctx.sleep(20);
    return { approved: true, seen: Object.keys(input).sort(), run: ctx.run };
  },
};

/** The activities of generated workflows (test/support/arbitrary-workflow.ts). */
const GENERATED_ACTIVITIES: Record<string, SimActivity> = {
  work: async (input: JsonValue, ctx) => {
    await ctx.sleep(1 + (hash(input) % 50));
    return { h: hash(input) % 1000, run: ctx.run };
  },
  flaky: async (input: { tag?: JsonValue }, ctx) => {
    await ctx.sleep(5);
    if (ctx.attempt === 1) throw fail("Flaky", "first attempt fails");
    return { attempt: ctx.attempt, tag: input.tag ?? null };
  },
};

// ---------------------------------------------------------------------------
// Shapes

const ORDER_FILE = repoPath("examples", "order-processing", "workflows", "order-fulfillment.yaml");
const ORDER = { file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") };

const wf = (source: string) => ({
  file: `${/^name: (\S+)/m.exec(source)?.[1] ?? "W"}.yaml`,
  source,
});

const APPROVAL = wf(`name: Approval
states:
  - { name: A, type: Task, resource: "urn:cascade:activity:work", parameters: { t: a }, result: $.a, next: P }
  - name: P
    type: Parallel
    branches:
      - { name: X, type: Pass, value: x, result: $.x }
      - { name: Y, type: Task, resource: "urn:cascade:activity:fickle", parameters: { t: y }, retry: { errors: [Transient], max_attempts: 10, interval: 200ms }, result: $.y }
    next: W
  - name: W
    type: WaitForEvent
    event: go
    timeout: 1h
    result: $.go
    catch: [{ errors: [Cascade.Timeout], result: $.late, next: B }]
    next: B
  - { name: B, type: Task, resource: "urn:cascade:activity:work", parameters: { t: b }, result: $.b, end: true }
`);

const RACE = wf(`name: Race
states:
  - name: AnyOf
    type: Parallel
    completion_strategy: ANY
    branches:
${[0, 1, 2].map((i) => `      - { name: A${i}, type: Task, resource: "urn:cascade:activity:work", parameters: { t: a${i}, ms: ${100 + 150 * i} }, result: $.a${i} }`).join("\n")}
    result: $.any
    next: TwoOf
  - name: TwoOf
    type: Parallel
    completion_strategy: AT_LEAST
    at_least: 2
    branches:
${[0, 1, 2, 3].map((i) => `      - { name: L${i}, type: Task, resource: "urn:cascade:activity:fickle", parameters: { t: l${i} }, retry: { errors: [Transient], max_attempts: 10, interval: 100ms }, result: $.l${i} }`).join("\n")}
    result: $.least
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);

const TOLERANT = wf(`name: Tolerant
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 3
    tolerated_failures: 2
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:brittle", parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    next: Reject
  - name: Reject
    type: Task
    resource: "urn:cascade:activity:reject"
    catch: [{ errors: [Rejected], result: $.rejection, next: Fallback }]
    next: Done
  - { name: Fallback, type: Task, resource: "urn:cascade:activity:work", parameters: { t: fallback }, result: $.fallback, next: Done }
  - { name: Done, type: Succeed }
`);

const REMOTE = wf(`name: Remote
states:
  - { name: First, type: Task, resource: "urn:cascade:activity:work@us-east", timeout: 1m, retry: { errors: [Cascade.Timeout], max_attempts: 10, interval: 1s }, parameters: { t: first }, result: $.first, next: Each }
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:double@us-east", timeout: 1m, retry: { errors: [Cascade.Timeout], max_attempts: 10, interval: 1s }, parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    next: Last
  - { name: Last, type: Task, resource: "urn:cascade:activity:work", parameters: { t: last }, result: $.last, end: true }
`);

const WIDE = wf(`name: Wide
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:double", parameters: { n: "{{ $.n }}" }, next: Keep }
      - { name: Keep, type: Pass, value: "{{ $ }}", end: true }
    result: $.out
    end: true
`);
const WIDE_CAPPED = wf(
  WIDE.source
    .replace("name: Wide", "name: WideCapped")
    .replace('items: "{{ $.items }}"', 'items: "{{ $.items }}"\n    max_concurrency: 25'),
);

const DEADLINE = wf(`name: Deadline
timeout: 5s
states:
  - { name: Slow, type: Task, resource: "urn:cascade:activity:work", parameters: { t: slow, ms: "{{ $.ms }}" }, result: $.slow, end: true }
`);

const CANCELLABLE = wf(`name: Cancellable
states:
  - name: Fan
    type: Parallel
    branches:
${[0, 1, 2]
  .map(
    (i) => `      - name: C${i}
        states:
          - { name: C${i}a, type: Task, resource: "urn:cascade:activity:work", parameters: { t: c${i}a, ms: ${200 + 100 * i} }, result: $.a, next: C${i}b }
          - { name: C${i}b, type: Task, resource: "urn:cascade:activity:work", parameters: { t: c${i}b, ms: 300 }, result: $.b, end: true }
        result: $.c${i}`,
  )
  .join("\n")}
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);

const TENANTED = wf(`name: Tenanted
states:
  - { name: Charge, type: Task, resource: "urn:cascade:activity:work", parameters: { t: "{{ $.who }}" }, result: $.charged, next: Each }
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:double", parameters: { n: "{{ $.n }}" }, end: true }
    result: $.out
    end: true
`);

const SLOW = wf(`name: Slow
states:
  - name: Fan
    type: Parallel
    branches:
      - { name: Long, type: Task, resource: "urn:cascade:activity:work", parameters: { t: long, ms: "{{ $.ms }}" }, result: $.long }
      - { name: Sluggish, type: Task, resource: "urn:cascade:activity:sluggish", timeout: 2m, parameters: { t: sluggish }, result: $.sluggish }
    next: After
  - { name: After, type: Task, resource: "urn:cascade:activity:work", parameters: { t: after }, result: $.after, end: true }
`);

interface World {
  readonly random: () => number;
  readonly seed: number;
  /** Padding for inputs (offloaded payloads when the threshold is low). */
  readonly pad: string;
}

interface Shape {
  readonly name: string;
  readonly weight: number;
  readonly workflows: SimulationOptions["workflows"];
  readonly activities: Record<string, SimActivity>;
  readonly workerRegions?: readonly string[];
  /** Options this shape needs whatever the seed (e.g. a short visibility timeout). */
  readonly options?: Partial<SimulationOptions>;
  /** Schedules the HTTP calls; returns the expectations, judged after the run. */
  readonly setup: (
    sim: Simulation,
    world: World,
  ) => (sim: Simulation) => Promise<ExecutionExpectation[]>;
}

const pick = <T>(random: () => number, list: readonly T[]): T =>
  list[Math.floor(random() * list.length)] as T;
const between = (random: () => number, low: number, high: number) =>
  low + Math.floor(random() * (high - low + 1));

const START = { retries: 10, retryDelayMs: 1_000 } as const;

interface CalmOutcome {
  readonly status: string;
  readonly error?: string;
  readonly output: JsonValue;
}

/** How a workflow and input end calmly: one consumer, no faults, no latency. Cached. */
const calmCache = new Map<string, CalmOutcome>();
async function calmOutcome(shape: Shape, workflow: string, input: JsonValue): Promise<CalmOutcome> {
  const key = `${shape.name}/${workflow}/${JSON.stringify(input)}`;
  const known = calmCache.get(key);
  if (known !== undefined) return known;
  const run = await simulate(
    {
      seed: 1,
      workflows: shape.workflows,
      activities: shape.activities,
      latencyMs: 0,
      ...(shape.workerRegions ? { workerRegions: shape.workerRegions } : {}),
    },
    (sim) => sim.startExecution(workflow, input, { id: "calm" }),
    [{ id: "calm" }],
  );
  const { view, output } = await run.sim.result("default", "calm");
  const outcome: CalmOutcome = {
    status: view?.thread.status ?? "missing",
    ...(view?.thread.error ? { error: view.thread.error.name } : {}),
    output: withoutRuns(output, run.sim.calls),
  };
  calmCache.set(key, outcome);
  return outcome;
}

/** The calm output of a hand-written shape, which must succeed. */
async function calm(shape: Shape, workflow: string, input: JsonValue): Promise<JsonValue> {
  const outcome = await calmOutcome(shape, workflow, input);
  assert.equal(
    outcome.status,
    "succeeded",
    `the calm run of ${shape.name} succeeds: ${brief(outcome)}`,
  );
  return outcome.output;
}

/** The same end as the calm run: its output when it succeeded, its error's name when it failed. */
function sameAs(calm: CalmOutcome): NonNullable<ExecutionExpectation["outcome"]> {
  if (calm.status === "succeeded") return succeededWith(calm.output);
  return endedAs(calm.status, calm.error);
}

/** Starts `count` executions of one workflow (ids x-0…), in `tenants`, judged against the calm output. */
function startMany(
  workflow: string,
  makeInput: (i: number) => JsonValue,
  world: World,
  sim: Simulation,
  options: { count?: number; tenants?: readonly string[]; sameId?: boolean } = {},
) {
  const count = options.count ?? between(world.random, 1, 3);
  const started: { tenant: string; id: string; input: JsonValue; call: number }[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = pick(world.random, options.tenants ?? ["default", "acme"]);
    const id = options.sameId ? "x-0" : `x-${i}`;
    if (started.some((s) => s.tenant === tenant && s.id === id)) continue;
    const input = makeInput(i);
    sim.startExecution(workflow, input, {
      id,
      tenant,
      at: between(world.random, 0, 400),
      ...START,
    });
    started.push({ tenant, id, input, call: sim.http.length - 1 });
  }
  return started;
}

/** The expectation of a start: an execution that exists must end right; one that never got a record was refused to its client. */
function expectation(
  sim: Simulation,
  started: { tenant: string; id: string; call: number },
  outcome: ExecutionExpectation["outcome"],
): ExecutionExpectation[] {
  const tracked = sim.tracked.find((t) => t.tenant === started.tenant && t.id === started.id);
  const call = sim.http[started.call];
  if (tracked?.last === undefined && call?.value === undefined) return [];
  return [{ tenant: started.tenant, id: started.id, ...(outcome ? { outcome } : {}) }];
}

const calmJudge = (expected: JsonValue) => succeededWith(expected);

const SHAPES: readonly Shape[] = [
  {
    name: "order",
    weight: 3,
    workflows: [ORDER],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const started = startMany(
        "OrderFulfillment",
        (i) => ({
          customer_id: `c-${i}`,
          cart_items: [
            { id: "a", quantity: 1 },
            { id: "b", quantity: 2 },
          ],
          note: world.pad,
        }),
        world,
        sim,
      );
      return async (s) =>
        (
          await Promise.all(
            started.map(async (e) =>
              expectation(
                s,
                e,
                calmJudge(await calm(SHAPES[0] as Shape, "OrderFulfillment", e.input)),
              ),
            ),
          )
        ).flat();
    },
  },
  {
    name: "approval (signal)",
    weight: 2,
    workflows: [APPROVAL],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const input = { note: world.pad };
      const started = startMany("Approval", () => input, world, sim, {
        count: between(world.random, 1, 2),
      });
      const signals = started.map((e) => {
        sim.signal(
          e.tenant,
          e.id,
          "go",
          { by: e.id },
          {
            eventId: `go-${e.id}`,
            at: between(world.random, 50, 2_500),
            retries: 5,
          },
        );
        return sim.http.length - 1;
      });
      return async (s) => {
        const base = (await calm(SHAPES[1] as Shape, "Approval", input)) as Record<
          string,
          JsonValue
        >;
        return started.flatMap((e, i) =>
          expectation(s, e, (outcome: Outcome) => {
            const accepted = s.http[signals[i] as number]?.value === true;
            const { late: _late, go: _go, ...rest } = base;
            const delivered = succeededWith({ ...rest, go: { by: e.id } })(outcome);
            if (delivered === undefined) return undefined;
            if (accepted) return `the signal was accepted but not delivered: ${delivered}`;
            // The signal reached no running execution (it came before the start's commit).
            const out = outcome.output as { late?: { name?: string } };
            return out?.late?.name === "Cascade.Timeout"
              ? undefined
              : `the signal was refused, so the wait should time out: ${delivered}`;
          }),
        );
      };
    },
  },
  {
    name: "ANY / AT_LEAST",
    weight: 2,
    workflows: [RACE],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const started = startMany("Race", () => ({ note: world.pad }), world, sim);
      return async (s) =>
        started.flatMap((e) =>
          expectation(s, e, (outcome) => {
            const verdict = endedAs("succeeded")(outcome);
            if (verdict) return verdict;
            const out = withoutRuns(outcome.output, outcome.calls) as Record<string, JsonValue>;
            const problems: string[] = [];
            const check = (list: JsonValue, prefix: string, required: number) => {
              if (!Array.isArray(list))
                return problems.push(`$.${prefix === "a" ? "any" : "least"} is ${brief(list)}`);
              const won = list.flatMap((v, i) => (v === null ? [] : [[v, i] as const]));
              if (won.length !== required)
                problems.push(
                  `${won.length} branches won where ${required} should: ${brief(list)}`,
                );
              for (const [value, i] of won) {
                // A branch's output is its final data: the input plus its one result.
                const key = `${prefix}${i}`;
                const own = (value as Record<string, JsonValue>)[key];
                if (JSON.stringify(own) !== JSON.stringify({ h: key }))
                  problems.push(`branch ${key} gave ${brief(own)}`);
                if (JSON.stringify(out[key]) !== JSON.stringify({ h: key }))
                  problems.push(`$.${key} is ${brief(out[key])}`);
              }
              for (let i = 0; i < list.length; i++) {
                const key = `${prefix}${i}`;
                if (list[i] === null && out[key] !== undefined)
                  problems.push(`the losing branch ${key} still wrote $.${key}`);
              }
              return 0;
            };
            check(out.any ?? null, "a", 1);
            check(out.least ?? null, "l", 2);
            if (JSON.stringify(out.after) !== JSON.stringify({ h: "after" }))
              problems.push(`$.after is ${brief(out.after)}`);
            return problems.length > 0 ? problems.join("; ") : undefined;
          }),
        );
    },
  },
  {
    name: "catch and tolerated failures",
    weight: 2,
    workflows: [TOLERANT],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const input = { items: Array.from({ length: 8 }, (_, n) => ({ n })), note: world.pad };
      const started = startMany("Tolerant", () => input, world, sim);
      return async (s) => {
        const expected = await calm(SHAPES[3] as Shape, "Tolerant", input);
        return started.flatMap((e) => expectation(s, e, calmJudge(expected)));
      };
    },
  },
  {
    name: "workers",
    weight: 2,
    workflows: [REMOTE],
    activities: ACTIVITIES,
    workerRegions: ["us-east"],
    setup: (sim, world) => {
      const input = { items: [{ n: 1 }, { n: 2 }, { n: 3 }], note: world.pad };
      const started = startMany("Remote", () => input, world, sim);
      return async (s) => {
        const expected = await calm(SHAPES[4] as Shape, "Remote", input);
        return started.flatMap((e) => expectation(s, e, calmJudge(expected)));
      };
    },
  },
  {
    name: "wide Map (200+)",
    weight: 1,
    workflows: [WIDE, WIDE_CAPPED],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const n = between(world.random, 200, 230);
      const items = Array.from({ length: n }, (_, i) => ({ n: i }));
      const workflow = world.random() < 0.5 ? "Wide" : "WideCapped";
      const started = startMany(workflow, () => ({ items }), world, sim, {
        count: 1,
      });
      return async (s) =>
        started.flatMap((e) =>
          expectation(s, e, calmJudge({ items, out: items.map(({ n: k }) => k * 2) })),
        );
    },
  },
  {
    name: "workflow timeout racing the last step",
    weight: 2,
    workflows: [DEADLINE],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const started = startMany(
        "Deadline",
        () => ({ ms: between(world.random, 4_900, 5_050) }),
        world,
        sim,
      );
      return async (s) =>
        started.flatMap((e) =>
          expectation(
            s,
            e,
            oneOf(
              succeededWith({ ...(e.input as object), slow: { h: "slow" } }),
              endedAs("failed", "Cascade.Timeout"),
            ),
          ),
        );
    },
  },
  {
    name: "cancel racing the branches",
    weight: 2,
    workflows: [CANCELLABLE],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const input = { note: world.pad };
      const started = startMany("Cancellable", () => input, world, sim);
      for (const e of started)
        sim.cancel(e.tenant, e.id, "chaos", { at: between(world.random, 0, 1_400), retries: 5 });
      return async (s) => {
        const expected = await calm(SHAPES[7] as Shape, "Cancellable", input);
        return started.flatMap((e) =>
          expectation(s, e, oneOf(endedAs("cancelled"), succeededWith(expected))),
        );
      };
    },
  },
  {
    name: "two tenants, one execution id",
    weight: 1,
    workflows: [TENANTED],
    activities: ACTIVITIES,
    setup: (sim, world) => {
      const started = startMany(
        "Tenanted",
        (i) => ({ who: `tenant-${i}`, items: [{ n: i }, { n: i + 1 }] }),
        world,
        sim,
        { count: 2, tenants: ["acme", "globex"], sameId: true },
      );
      return async (s) =>
        (
          await Promise.all(
            started.map(async (e) =>
              expectation(s, e, calmJudge(await calm(SHAPES[8] as Shape, "Tenanted", e.input))),
            ),
          )
        ).flat();
    },
  },
  {
    name: "slow activities (past the visibility timeout, killed)",
    weight: 1,
    workflows: [SLOW],
    activities: ACTIVITIES,
    options: { visibilityTimeoutMs: 60_000, functionTimeoutMs: 60_000, workerTimeoutMs: 60_000 },
    setup: (sim, world) => {
      const started = startMany(
        "Slow",
        () => ({ ms: between(world.random, 25_000, 59_000) }),
        world,
        sim,
        { count: 1 },
      );
      return async (s) =>
        started.flatMap((e) =>
          expectation(
            s,
            e,
            succeededWith({
              ...(e.input as object),
              long: { h: "long" },
              sluggish: { h: "sluggish" },
              after: { h: "after" },
            }),
          ),
        );
    },
  },
  {
    name: "generated",
    weight: 4,
    workflows: [],
    activities: GENERATED_ACTIVITIES,
    setup: () => {
      throw new Error("generated shapes are built per seed");
    },
  },
];

/** A random workflow (fast-check, from the seed) as its own shape. */
function generatedShape(seed: number): { shape: Shape; input: JsonValue } {
  const [source] = fc.sample(workflowArb({ depth: 2 }), { seed, numRuns: 1 });
  const [input] = fc.sample(inputArb, { seed: seed + 1, numRuns: 1 });
  const shape: Shape = {
    name: `generated #${seed}`,
    weight: 0,
    workflows: [{ file: "generated.yaml", source: source as string }],
    activities: GENERATED_ACTIVITIES,
    setup: (sim, world) => {
      const started = startMany("Generated", () => input as JsonValue, world, sim);
      return async (s) => {
        const expected = await calmOutcome(shape, "Generated", input as JsonValue);
        return started.flatMap((e) => expectation(s, e, sameAs(expected)));
      };
    },
  };
  return { shape, input: input as JsonValue };
}

// ---------------------------------------------------------------------------
// The world of one seed

function mulberry(seed: number): () => number {
  let a = (seed * 2246822519) >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shapeFor(seed: number, random: () => number): Shape {
  const total = SHAPES.reduce((n, s) => n + s.weight, 0);
  let draw = random() * total;
  for (const shape of SHAPES) {
    draw -= shape.weight;
    if (draw < 0) return shape.name === "generated" ? generatedShape(seed).shape : shape;
  }
  return SHAPES[0] as Shape;
}

function worldFor(seed: number) {
  const random = mulberry(seed);
  const shape = shapeFor(seed, random);
  const functionTimeoutMs = pick(random, [30_000, 60_000]);
  const calmSeed = random() < 0.1;
  const faults: Faults = calmSeed
    ? {}
    : {
        crash: pick(random, [0, 0.01, 0.03, 0.05]),
        transient: pick(random, [0, 0, 0.01, 0.03]),
        lostDelete: pick(random, [0, 0.05, 0.1]),
        duplicate: pick(random, [0, 0.05, 0.2]),
        partialSend: pick(random, [0, 0, 0.1]),
        jitterMs: pick(random, [0, 20, 50]),
      };
  const offload = random() < 0.3;
  const options: SimulationOptions = {
    seed,
    workflows: shape.workflows,
    activities: shape.activities,
    consumers: between(random, 1, 8),
    workerConsumers: between(random, 1, 3),
    batchSize: pick(random, [1, 3, 10]),
    batches: random() < 0.75,
    functionTimeoutMs,
    workerTimeoutMs: functionTimeoutMs,
    // Mostly as the CDK construct sets it (six times the function's timeout); sometimes the
    // least Lambda accepts (the function's timeout), so a killed invocation's messages come
    // back at once and a slow one's may be delivered again while it still runs.
    visibilityTimeoutMs: random() < 0.7 ? 6 * functionTimeoutMs : functionTimeoutMs,
    latencyMs: between(random, 0, 4),
    faults,
    ...(offload ? { offloadThresholdBytes: 1_024 } : {}),
    ...(shape.workerRegions ? { workerRegions: shape.workerRegions } : {}),
    ...shape.options,
  };
  const world: World = {
    random,
    seed,
    pad: offload || random() < 0.2 ? "p".repeat(between(random, 200, 3_000)) : "",
  };
  return { shape, options, world };
}

/** A problem with its ids and numbers blanked, to group seeds by kind of failure. */
function kindOf(problem: string): string {
  return problem
    .replace(/^[\w-]+\/x-\d+: /, "")
    .replace(/\([^()]*\)/g, "(…)")
    .replace(/[0-9a-f]{8,}/g, "#")
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

/** Runs the seeds and fails with every broken invariant, grouped by kind, with seeds to replay. */
async function checkSeeds(
  seeds: readonly number[],
  override: Partial<SimulationOptions> = {},
): Promise<void> {
  const total = seeds.length;
  const kinds = new Map<string, { seeds: number[]; example: string }>();
  let failed = 0;
  let unlucky = 0;
  let crashes = 0;
  let kills = 0;
  let deliveries = 0;
  const shapes = new Map<string, number>();
  for (const seed of seeds) {
    const t0 = performance.now();
    const { shape, options: base, world } = worldFor(seed);
    const options = { ...base, ...override };
    shapes.set(
      shape.name.replace(/ #\d+$/, ""),
      (shapes.get(shape.name.replace(/ #\d+$/, "")) ?? 0) + 1,
    );
    const sim = new Simulation(options);
    const judge = shape.setup(sim, world);
    const report = await sim.run();
    const expectations = await judge(sim);
    const problems = await checkInvariants(sim, report, expectations, {
      tolerateUnluckyDeadLetters: true,
    });
    crashes += report.crashes;
    kills += report.kills;
    deliveries += report.deliveries;
    if (sim.dead.some((d) => d.unlucky)) unlucky++;
    if (process.env.CHAOS_TRACE) {
      for (const d of sim.deliveryLog)
        console.log(
          `delivery +${Math.round(d.at - sim.start)} ${d.container} ${d.kind} ${d.mid} #${d.receiveCount} ${d.fate}`,
        );
      if (process.env.CHAOS_TRACE === "store")
        for (const e of sim.tracked) {
          const view = await sim.store.getExecution(e.tenant, e.id);
          if (!view) continue;
          const join = await sim.store.getJoin(view.header, "root/Each@1");
          console.log(`join ${JSON.stringify({ ...join, header: undefined }).slice(0, 4000)}`);
          for (const t of await sim.store.branchThreads(view.header))
            if (t.thread.status !== "succeeded")
              console.log(
                `thread ${t.thread.id} v${t.version} ${JSON.stringify(t.thread).slice(0, 600)}`,
              );
        }
      for (const e of sim.errors) console.log(`error ${e.slice(0, 400)}`);
      for (const d of sim.dead)
        console.log(`dead ${d.queue} ${d.kind} ${d.mid} handled=${d.handled} unlucky=${d.unlucky}`);
      for (const c of sim.calls)
        console.log(
          `call +${Math.round(c.startedAt - sim.start)}..${c.endedAt === undefined ? "" : Math.round(c.endedAt - sim.start)} ${c.container} ${c.key} run ${c.run} ${JSON.stringify(c.outcome ?? null).slice(0, 80)}`,
        );
    }
    if (process.env.CHAOS_PROFILE)
      console.log(seed, shape.name, Math.round(performance.now() - t0), report.deliveries);
    if (problems.length === 0) continue;
    failed++;
    for (const problem of new Set(problems.map(kindOf))) {
      const entry = kinds.get(problem) ?? { seeds: [], example: "" };
      if (entry.seeds.length === 0)
        entry.example = `${problems.find((p) => kindOf(p) === problem)} — ${shape.name}, ${sim.describe()}`;
      entry.seeds.push(seed);
      kinds.set(problem, entry);
    }
  }
  const summary = `${total} seeds (${[...shapes].map(([n, c]) => `${n} ${c}`).join(", ")}); ${deliveries} deliveries, ${crashes} crashes, ${kills} kills; ${unlucky} seed(s) with an unlucky dead letter`;
  assert.ok(crashes > total / 4, `crashes were injected: ${summary}`);
  assert.ok(
    unlucky <= Math.max(2, total * 0.05),
    `too few seeds test anything beyond bad luck: ${summary}`,
  );
  if (failed > 0) {
    const lines = [...kinds]
      .sort((a, b) => b[1].seeds.length - a[1].seeds.length)
      .map(
        ([, { seeds, example }]) =>
          `- ${seeds.length} seed(s), e.g. ${seeds.slice(0, 5).join(", ")}: ${example.slice(0, 700)}`,
      );
    assert.fail(
      `${failed} of ${summary} broke an invariant:\n${lines.join("\n")}\n(replay one seed: CHAOS_FIRST_SEED=<seed> CHAOS_SEEDS=1)`,
    );
  }
}

test(`chaos: every execution ends exactly once, right, complete and within AWS's limits (${runs(Number(process.env.CHAOS_SEEDS ?? 200))} seeds)`, async () => {
  const total = runs(Number(process.env.CHAOS_SEEDS ?? 200));
  const first = Number(process.env.CHAOS_FIRST_SEED ?? 1);
  await checkSeeds(Array.from({ length: total }, (_, i) => first + i));
});

/**
 * Seeds a 10,000-seed run once found failing, kept so the fixes stay: a Map's report
 * whose join counted it but whose branch starts were never sent (5141, 5490, 1303: the
 * reconciler now repairs open joins), and a run that started after a cancel committed
 * while the earlier runs of its batch ran (6851).
 */
test("chaos: the seeds that once broke an invariant", async () => {
  await checkSeeds([5141, 5490, 1303, 6851]);
});

/**
 * The same worlds with every Map (of 2 items or more) on a wide join, sharded as a Map
 * of 100,000 items is: the shards' sets, the tally, the refill i → i + C and the paged
 * fan-in and cancel under the same crashes, duplicates and kills.
 */
test(`chaos: wide joins keep every invariant (${runs(Number(process.env.CHAOS_WIDE_SEEDS ?? 100))} seeds, every Map sharded)`, async () => {
  const total = runs(Number(process.env.CHAOS_WIDE_SEEDS ?? 100));
  const first = Number(process.env.CHAOS_FIRST_SEED ?? 1);
  await checkSeeds(
    Array.from({ length: total }, (_, i) => first + i),
    { wideJoinFrom: 2 },
  );
});
