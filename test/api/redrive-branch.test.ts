/**
 * Redrive from a state inside a Parallel branch or a Map item, over HTTP on the embedded
 * stack (dynalite + fauxqs): the branch on the path starts at that state, the branches
 * that succeeded in the original keep their output without running again, the others
 * run again; a Map redriven as it ran re-runs only its failed items (a wide one too);
 * nested fan-outs; and the refusals' codes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { type Answer, type ApiStack, expectError, startApiStack } from "./api-stack.ts";

const CHECKS = `name: Checks
states:
  - { name: Prepare, type: Pass, next: All }
  - name: All
    type: Parallel
    branches:
      - { name: Identity, type: Task, resource: "urn:cascade:activity:identity", result: $.identity }
      - name: CreditFlow
        states:
          - { name: FetchScore, type: Task, resource: "urn:cascade:activity:score", result: $.score, next: Decide }
          - { name: Decide, type: Task, resource: "urn:cascade:activity:decide", result: $.decision, end: true }
        result: $.credit
    next: Done
  - { name: Done, type: Pass, end: true }
`;
const EACH = `name: Each
states:
  - name: EachItem
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 1
    iterator:
      - { name: Check, type: Task, resource: "urn:cascade:activity:check", end: true }
    result: $.results
    end: true
`;
const NESTED = `name: Nested
states:
  - name: Orders
    type: Map
    items: "{{ $.orders }}"
    max_concurrency: 1
    iterator:
      - name: Lines
        type: Map
        items: "{{ $.lines }}"
        max_concurrency: 1
        iterator:
          - { name: Price, type: Task, resource: "urn:cascade:activity:price", end: true }
        result: $.priced
        end: true
    result: $.orders
    end: true
`;

const calls = { identity: 0, score: 0, decide: 0, check: 0, price: 0 };
/** Items (by `n`) that fail `check`; a redrive runs after the fix removes them. */
const broken = new Set<number>();
const ACTIVITIES = new Map<string, ActivityFunction>([
  ["identity", (async () => ++calls.identity && { verified: true }) as ActivityFunction],
  ["score", (async () => ++calls.score && { value: 600 }) as ActivityFunction],
  [
    "decide",
    (async (input: { score: { value: number } }) => {
      calls.decide++;
      if (input.score.value < 700)
        throw Object.assign(new Error("score too low"), { name: "Declined" });
      return { approved: true };
    }) as ActivityFunction,
  ],
  [
    "check",
    (async (input: { n: number }) => {
      calls.check++;
      if (broken.has(input.n)) throw Object.assign(new Error(`item ${input.n}`), { name: "Bad" });
      return { n: input.n, ok: true };
    }) as ActivityFunction,
  ],
  [
    "price",
    (async (input: { sku: string; qty: number }) => {
      calls.price++;
      if (input.qty < 0) throw Object.assign(new Error("negative"), { name: "Bad" });
      return { sku: input.sku, total: input.qty * 10 };
    }) as ActivityFunction,
  ],
]);

let api: ApiStack;

before(async () => {
  api = await startApiStack({
    app: "shop",
    workflows: [
      { file: "checks.yaml", source: CHECKS },
      { file: "each.yaml", source: EACH },
      { file: "nested.yaml", source: NESTED },
    ],
    activities: ACTIVITIES,
  });
});

after(async () => {
  await api?.stop();
});

const EXEC = "/v1/apps/shop/executions";
const call = (method: string, path: string, body?: unknown) => api.call(method, path, body);
const redrive = (id: string, body: unknown) => call("POST", `${EXEC}/${id}/redrive`, body);
const ended = (id: string) => api.ended(id);
const history = (id: string) => api.history(id);
type Event = Awaited<ReturnType<typeof history>>[number];

async function run(workflow: string, input: unknown): Promise<Answer> {
  const started = await call("POST", `/v1/apps/shop/workflows/${workflow}/executions`, { input });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  return ended(started.body.id);
}

async function redriven(id: string, body: unknown): Promise<Answer> {
  const answer = await redrive(id, body);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal(answer.body.redriveOf, id);
  return ended(answer.body.id);
}

test("redrive from a state inside a Parallel branch: that branch starts there, the other keeps its output", async () => {
  const failed = await run("Checks", {});
  assert.equal(failed.body.status, "failed", JSON.stringify(failed.body));
  const id = failed.body.id as string;
  const before = { ...calls };

  // The failed branch's Decide, with an edited score: Identity and FetchScore do not run again.
  const again = await redriven(id, { from_state: "Decide", input: { score: { value: 800 } } });
  assert.equal(again.body.status, "succeeded", JSON.stringify(again.body));
  assert.deepEqual(again.body.output, {
    identity: { verified: true },
    credit: { score: { value: 800 }, decision: { approved: true } },
  });
  assert.equal(calls.identity, before.identity, "the succeeded branch is kept, not run again");
  assert.equal(calls.score, before.score, "the state before Decide in its branch is not run again");
  assert.equal(calls.decide, before.decide + 1);

  const events = await history(again.body.id);
  const started = events[0] as Event;
  assert.equal(started.type, "ExecutionStarted");
  assert.equal(started.detail?.redriveOf, id);
  assert.equal(started.detail?.fromState, "Decide");
  assert.match(String(started.detail?.thread), /^root\/All@\d+\[1\]$/);
  const kept = events.find((e) => e.type === "BranchFinished" && e.detail?.reused !== undefined);
  assert.ok(kept, "the kept branch says where its output came from");
  assert.match(String(kept.detail?.reused), /^root\/All@\d+\[0\]$/);
  assert.ok(!events.some((e) => e.type === "StateEntered" && e.state === "Prepare"));

  // From the branch's first state with its recorded data: FetchScore runs again, and so
  // does Decide, which fails again on the same score. The thread is found without a name.
  const redone = await redriven(id, { from_state: "FetchScore" });
  assert.equal(redone.body.status, "failed");
  assert.equal(calls.score, before.score + 1);
  assert.equal(calls.identity, before.identity);
});

test("a Map redriven as it ran re-runs the items that did not succeed; from a state inside it, the item that failed", async () => {
  broken.clear();
  broken.add(2);
  const items = [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }];
  // One item at a time: item 1 fails, the join closes, items 2 and 3 never start.
  const failed = await run("Each", { items });
  assert.equal(failed.body.status, "failed");
  const id = failed.body.id as string;
  broken.clear();

  // The default: the state it failed in (the Map), with its recorded data.
  let before = calls.check;
  const fixed = await redriven(id, {});
  assert.equal(fixed.body.status, "succeeded", JSON.stringify(fixed.body));
  assert.deepEqual(
    fixed.body.output.results,
    items.map((i) => ({ n: i.n, ok: true })),
  );
  assert.equal(calls.check, before + 3, "item 0 is kept; 1 failed and 2, 3 never ran");

  // From Check inside the Map, no thread named: items 0 and 1 entered it, and only item 1
  // did not succeed. An edited input for that item.
  before = calls.check;
  const edited = await redriven(id, { from_state: "Check", input: { n: 20 } });
  assert.equal(edited.body.status, "succeeded");
  assert.deepEqual(edited.body.output.results[0], { n: 1, ok: true });
  assert.deepEqual(edited.body.output.results[1], { n: 20, ok: true });
  assert.deepEqual(edited.body.output.results[3], { n: 4, ok: true });
  assert.equal(calls.check, before + 3);

  // A succeeded Map: every item entered Check and succeeded, so the thread must be named.
  const ok = (await run("Each", { items })).body.id as string;
  expectError(await redrive(ok, { from_state: "Check" }), 400, "THREAD_REQUIRED", "root/");
  const threads = [
    ...new Set(
      (await history(ok))
        .filter((e) => e.type === "StateEntered" && e.state === "Check")
        .map((e) => e.thread),
    ),
  ].sort();
  assert.equal(threads.length, 4);
  before = calls.check;
  const one = await redriven(ok, { from_state: "Check", thread: threads[2] });
  assert.equal(one.body.status, "succeeded");
  assert.equal(calls.check, before + 1, "the named item runs, the other three are kept");

  expectError(
    await redrive(ok, { from_state: "Check", thread: "root/Other@1[0]" }),
    400,
    "UNKNOWN_THREAD",
  );
  expectError(
    await redrive(ok, { from_state: "EachItem", thread: threads[0] }),
    400,
    "UNKNOWN_THREAD",
  );
  expectError(
    await redrive(ok, {
      from_state: "Check",
      thread: `${threads[0]?.replace(/\[\d+\]$/, "")}[99]`,
    }),
    409,
    "STATE_NOT_ENTERED",
  );
  expectError(await redrive(ok, { from_state: "Check", thread: 7 }), 400, "INVALID_BODY");
});

test("a wide Map (300 items, a sharded join) redriven as it ran keeps the items that succeeded", {
  timeout: 240_000,
}, async () => {
  broken.clear();
  broken.add(7);
  const items = Array.from({ length: 300 }, (_, n) => ({ n }));
  const failed = await run("Each", { items });
  assert.equal(failed.body.status, "failed");
  broken.clear();
  const before = calls.check;
  const fixed = await redriven(failed.body.id, {});
  assert.equal(fixed.body.status, "succeeded", JSON.stringify(fixed.body.error));
  assert.equal(fixed.body.output.results.length, 300);
  assert.deepEqual(fixed.body.output.results[150], { n: 150, ok: true });
  assert.equal(calls.check - before, 293, "items 0-6 are kept; 7 failed, 8-299 never ran");
});

test("nested Maps: a line of one order redriven from its Price state, the lines and orders that succeeded kept", async () => {
  const orders = [
    {
      lines: [
        { sku: "a", qty: 1 },
        { sku: "b", qty: 2 },
      ],
    },
    {
      lines: [
        { sku: "c", qty: 3 },
        { sku: "d", qty: -1 },
        { sku: "e", qty: 5 },
      ],
    },
  ];
  const failed = await run("Nested", { orders });
  assert.equal(failed.body.status, "failed");
  const before = calls.price;
  // No thread named: of the four lines that entered Price, only d's did not succeed.
  const fixed = await redriven(failed.body.id, {
    from_state: "Price",
    input: { sku: "d", qty: 4 },
  });
  assert.equal(fixed.body.status, "succeeded", JSON.stringify(fixed.body.error));
  assert.deepEqual(
    fixed.body.output.orders.map((o: { priced: { total: number }[] }) =>
      o.priced.map((p) => p.total),
    ),
    [
      [10, 20],
      [30, 40, 50],
    ],
  );
  assert.equal(
    calls.price,
    before + 2,
    "d is priced again and e, which never ran; a, b, c are kept",
  );
  const events = await history(fixed.body.id);
  assert.match(String(events[0]?.detail?.thread), /^root\/Orders@\d+\[1\]\/Lines@\d+\[1\]$/);
});
