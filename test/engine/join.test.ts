/** The join record: exactly-once completion, idempotent reports, Map concurrency. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyBranchFinished,
  cancelJoin,
  type JoinState,
  runningBranches,
} from "../../lib/core/engine/index.ts";

const base: JoinState = {
  id: "root/Fan@1",
  kind: "parallel",
  parentThread: "root",
  parentFlow: [],
  parentStep: 1,
  state: "Fan",
  total: 3,
  waitForAll: true,
  required: 3,
  toleratedFailures: 0,
  maxConcurrency: 0,
  started: 3,
  succeeded: [],
  failed: [],
  status: "open",
};
const ok = (index: number) => ({ joinId: base.id, index, status: "succeeded" as const });

test("ALL completes exactly once, on the last branch, whatever the order", () => {
  for (const order of [
    [0, 1, 2],
    [2, 0, 1],
    [1, 2, 0],
  ]) {
    let join = base;
    const completions: number[] = [];
    for (const index of order) {
      const step = applyBranchFinished(join, ok(index));
      join = step.join;
      if (step.commands.some((c) => c.type === "CompleteJoin")) completions.push(index);
    }
    assert.deepEqual(completions, [order[2]]);
    assert.equal(join.status, "succeeded");
  }
});

test("a duplicate or late report changes nothing", () => {
  const first = applyBranchFinished(base, ok(1));
  const again = applyBranchFinished(first.join, ok(1));
  assert.equal(again.changed, false);
  assert.equal(again.join, first.join);
  assert.deepEqual(again.commands, []);
  const failed = applyBranchFinished(first.join, {
    joinId: base.id,
    index: 0,
    status: "failed",
    error: { name: "X", message: "x" },
  });
  assert.equal(failed.join.status, "failed");
  assert.deepEqual(
    failed.commands.map((c) => c.type),
    ["CompleteJoin", "CancelBranches"],
  );
  const late = applyBranchFinished(failed.join, ok(2));
  assert.equal(late.changed, false, "a closed join ignores late branches");
  const unknown = applyBranchFinished(base, { ...ok(0), joinId: "other" });
  assert.equal(unknown.changed, false);
  const notStarted = applyBranchFinished({ ...base, started: 1 }, ok(2));
  assert.equal(notStarted.changed, false, "a branch that never started cannot finish");
});

test("ANY completes on the first success and cancels the rest", () => {
  const any: JoinState = { ...base, waitForAll: false, required: 1, toleratedFailures: 2 };
  const failed = applyBranchFinished(any, {
    joinId: base.id,
    index: 0,
    status: "failed",
    error: { name: "X", message: "x" },
  });
  assert.equal(failed.join.status, "open");
  const won = applyBranchFinished(failed.join, ok(2));
  assert.equal(won.join.status, "succeeded");
  const complete = won.commands.find((c) => c.type === "CompleteJoin");
  assert.ok(complete?.type === "CompleteJoin" && complete.outcome.status === "succeeded");
  assert.deepEqual(
    complete.outcome.branches.map((b) => b.status),
    ["failed", "pending", "succeeded"],
  );
  assert.deepEqual(
    won.commands.find((c) => c.type === "CancelBranches"),
    {
      type: "CancelBranches",
      joinId: base.id,
      indexes: [1],
    },
  );
});

test("a Map keeps at most max_concurrency branches in flight", () => {
  let join: JoinState = {
    ...base,
    kind: "map",
    total: 5,
    required: 5,
    maxConcurrency: 2,
    started: 2,
  };
  const started: number[][] = [];
  for (const index of [1, 0, 2, 3, 4]) {
    const step = applyBranchFinished(join, ok(index));
    join = step.join;
    for (const c of step.commands) if (c.type === "StartBranches") started.push([...c.indexes]);
    assert.ok(runningBranches(join).length <= 2);
  }
  assert.deepEqual(started, [[2], [3], [4]]);
  assert.equal(join.status, "succeeded");
});

test("cancelling an open join cancels what runs, once", () => {
  const half = applyBranchFinished(base, ok(0)).join;
  const cancelled = cancelJoin(half);
  assert.equal(cancelled.join.status, "cancelled");
  assert.deepEqual(cancelled.commands, [
    { type: "CancelBranches", joinId: base.id, indexes: [1, 2] },
  ]);
  assert.equal(cancelJoin(cancelled.join).changed, false);
});
