/** The console's reading of a history (lib/console/history.ts): visits, node statuses, waits and lanes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_LANES_PER_JOIN, threadPath, traceExecution } from "../../lib/console/history.ts";
import type { Graph, HistoryEvent } from "../../lib/console/types.ts";

const graph: Graph = {
  nodes: [
    { id: "Charge", name: "Charge", type: "Task", start: true },
    { id: "Each", name: "Each", type: "Map" },
    { id: "Each/Item", name: "Item", type: "Task", parent: "Each", start: true, end: true },
    { id: "Oops", name: "Oops", type: "Fail", end: true },
  ],
  edges: [
    { from: "Charge", to: "Each", kind: "next" },
    { from: "Each", to: "Oops", kind: "next" },
  ],
};

const at = (ms: number) => new Date(1_000_000 + ms).toISOString();
let seq = 0;
const ev = (
  thread: string,
  type: string,
  ms: number,
  more: Partial<HistoryEvent> = {},
): HistoryEvent => ({
  type,
  thread,
  seq: seq++,
  step: 1,
  at: at(ms),
  ...more,
});

function history(items: number): HistoryEvent[] {
  seq = 0;
  const events = [
    ev("root", "ExecutionStarted", 0),
    ev("root", "StateEntered", 0, { state: "Charge", input: { n: 1 } }),
    ev("root", "ActivityScheduled", 0, { state: "Charge", attempt: 1 }),
    ev("root", "ActivityFailed", 40, {
      state: "Charge",
      attempt: 1,
      error: { name: "Transient", message: "x" },
    }),
    ev("root", "RetryScheduled", 40, { state: "Charge", attempt: 1 }),
    ev("root", "ActivityScheduled", 240, { state: "Charge", attempt: 2 }),
    ev("root", "ActivitySucceeded", 300, { state: "Charge", attempt: 2, output: { ok: true } }),
    ev("root", "StateExited", 300, { state: "Charge", output: { ok: true } }),
    ev("root", "StateEntered", 300, { state: "Each" }),
    ev("root", "BranchesStarted", 300, {
      state: "Each",
      detail: { join: "root/Each@2", total: items },
    }),
  ];
  for (let i = 0; i < items; i++) {
    seq = 0;
    const thread = `root/Each@2[${i}]`;
    events.push(
      ev(thread, "StateEntered", 320, { state: "Item" }),
      ev(thread, "ActivityScheduled", 320, { state: "Item", attempt: 1 }),
      ev(thread, "ActivitySucceeded", 350, { state: "Item", attempt: 1 }),
      ev(thread, "StateExited", 350, { state: "Item" }),
      ev(thread, "BranchFinished", 350, {
        state: "Item",
        detail: { status: "succeeded", index: i },
      }),
    );
  }
  seq = 10;
  events.push(
    ev("root", "BranchesJoined", 400, { state: "Each" }),
    ev("root", "StateExited", 400, { state: "Each" }),
    ev("root", "StateEntered", 400, { state: "Oops" }),
    ev("root", "ExecutionFailed", 400, { error: { name: "Oops", message: "no" } }),
  );
  return events;
}

test("thread ids name the fan-outs they descend through", () => {
  assert.deepEqual(threadPath("root/P@3[1]/M@2[40]"), [
    { state: "P", step: 3, index: 1 },
    { state: "M", step: 2, index: 40 },
  ]);
});

test("each state's status, attempts and waits come from its visits", () => {
  const trace = traceExecution(history(3), graph, "failed", 2_000_000);
  assert.equal(trace.nodes.get("Charge")?.status, "succeeded");
  assert.equal(trace.nodes.get("Each/Item")?.counts.succeeded, 3);
  assert.equal(trace.nodes.get("Oops")?.status, "failed");
  const charge = trace.visits.find((v) => v.nodeId === "Charge");
  assert.equal(charge?.attempts.length, 2);
  assert.equal(charge?.attempts[0]?.error?.name, "Transient");
  assert.deepEqual(
    charge?.segments.map((s) => [s.kind, s.to - s.from]),
    [
      ["run", 40],
      ["backoff", 200],
      ["run", 60],
    ],
  );
  // An item's thread waited 20 ms in the queue after the fan-out.
  const item = trace.visits.find((v) => v.nodeId === "Each/Item");
  assert.deepEqual(item?.segments[0], { kind: "queue", from: 1_000_300, to: 1_000_320 });
  assert.deepEqual(
    trace.lanes.map((l) => l.label),
    ["root", "Each[0]", "Each[1]", "Each[2]"],
  );
});

test("a big Map is summarised after its first lanes", () => {
  const trace = traceExecution(history(50), graph, "failed", 2_000_000);
  assert.equal(trace.lanes.length, 1 + MAX_LANES_PER_JOIN + 1);
  const summary = trace.lanes.at(-1);
  assert.ok(summary?.kind === "summary");
  assert.equal(summary.hidden, 50 - MAX_LANES_PER_JOIN);
  assert.equal(summary.counts.succeeded, 50 - MAX_LANES_PER_JOIN);
});

test("a running state runs on to now; a cancelled execution's open state is cancelled", () => {
  const events = history(1).slice(0, 3);
  const running = traceExecution(events, graph, "running", 1_000_500);
  assert.equal(running.nodes.get("Charge")?.status, "running");
  assert.equal(running.to, 1_000_500);
  const cancelled = traceExecution(
    [...events, ev("root", "ExecutionCancelled", 50)],
    graph,
    "cancelled",
    0,
  );
  assert.equal(cancelled.nodes.get("Charge")?.status, "cancelled");
  assert.equal(cancelled.nodes.get("Each")?.status, "idle");
});
