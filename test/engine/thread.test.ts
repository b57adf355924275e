/** Thread steps that golden files show less directly: heartbeats, cancellation, events, idempotency keys. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Definition, validateWorkflow } from "../../lib/core/cdl/index.ts";
import {
  applyThreadEvent,
  type Command,
  type ExecutionContext,
  startExecution,
} from "../../lib/core/engine/index.ts";

function definition(text: string): Definition {
  const result = validateWorkflow("t.yaml", text);
  assert.ok(result.definition, result.diagnostics.map((d) => d.message).join("; "));
  return result.definition;
}
const context: ExecutionContext = {
  executionId: "e-1",
  workflowName: "T",
  input: { a: 1 },
  startTime: 1_000,
};
const find = <T extends Command["type"]>(commands: readonly Command[], type: T) =>
  commands.find((c): c is Extract<Command, { type: T }> => c.type === type);

const job = definition(`name: T
states:
  - name: Job
    type: Task
    heartbeat: 10s
    retry: { errors: [ALL], max_attempts: 2, interval: 1s }
    end: true
`);

test("a heartbeat pushes the heartbeat deadline; only the newest timer can fire", () => {
  const start = startExecution(job, context, 1_000);
  const run = find(start.commands, "RunActivity");
  assert.ok(run);
  assert.deepEqual(find(start.commands, "ScheduleTimer"), {
    type: "ScheduleTimer",
    token: run.token,
    purpose: "heartbeat",
    at: 11_000,
    seq: 0,
  });
  const beat = applyThreadEvent(
    job,
    context,
    start.thread,
    { type: "ActivityHeartbeat", token: run.token },
    5_000,
  );
  assert.equal(find(beat.commands, "ScheduleTimer")?.at, 15_000);
  const oldTimer = applyThreadEvent(
    job,
    context,
    beat.thread,
    { type: "TimerFired", token: run.token, purpose: "heartbeat", seq: 0 },
    11_000,
  );
  assert.equal(oldTimer.changed, false, "the timer set before the heartbeat is stale");
  const newTimer = applyThreadEvent(
    job,
    context,
    beat.thread,
    { type: "TimerFired", token: run.token, purpose: "heartbeat", seq: 1 },
    15_000,
  );
  assert.ok(find(newTimer.commands, "CancelActivity"));
  const retry = find(newTimer.commands, "RunActivity");
  assert.equal(retry?.token.attempt, 2, "a heartbeat timeout is retried like any error");
  assert.equal(retry?.notBefore, 16_000);
});

test("idempotency keys are stable per attempt and differ between attempts", () => {
  const a = startExecution(job, context, 1_000);
  const b = startExecution(job, context, 1_000);
  const first = find(a.commands, "RunActivity");
  assert.equal(first?.idempotencyKey, find(b.commands, "RunActivity")?.idempotencyKey);
  assert.equal(first?.idempotencyKey, "e-1/root/Job/1/1");
  assert.ok(first);
  const failed = applyThreadEvent(
    job,
    context,
    a.thread,
    { type: "ActivityFailed", token: first.token, error: { name: "X", message: "x" } },
    2_000,
  );
  assert.equal(find(failed.commands, "RunActivity")?.idempotencyKey, "e-1/root/Job/1/2");
});

test("cancelling a running Task signals the activity and ends the execution once", () => {
  const start = startExecution(job, context, 1_000);
  const cancelled = applyThreadEvent(
    job,
    context,
    start.thread,
    { type: "CancelRequested", reason: "user asked" },
    2_000,
  );
  assert.deepEqual(
    cancelled.commands.map((c) => c.type),
    ["RecordHistory", "CancelActivity", "EmitMetric", "EmitMetric", "CancelExecution"],
  );
  assert.equal(cancelled.thread.status, "cancelled");
  const again = applyThreadEvent(
    job,
    context,
    cancelled.thread,
    { type: "CancelRequested", reason: "again" },
    3_000,
  );
  assert.equal(again.changed, false);
  const run = find(start.commands, "RunActivity");
  assert.ok(run);
  const late = applyThreadEvent(
    job,
    context,
    cancelled.thread,
    { type: "ActivitySucceeded", token: run.token, output: 1 },
    3_000,
  );
  assert.equal(late.changed, false, "a result after cancellation is ignored");
});

test("an event of another name leaves a waiting thread waiting", () => {
  const wait = definition(`name: W
states:
  - { name: Await, type: WaitForEvent, event: approval, result: $.approval, end: true }
`);
  const start = startExecution(wait, context, 0);
  assert.deepEqual(find(start.commands, "AwaitEvent")?.event, "approval");
  const other = applyThreadEvent(
    wait,
    context,
    start.thread,
    { type: "EventReceived", event: "other", payload: 1 },
    1,
  );
  assert.equal(other.changed, false);
  const right = applyThreadEvent(
    wait,
    context,
    start.thread,
    { type: "EventReceived", event: "approval", payload: { ok: true } },
    2,
  );
  assert.deepEqual(find(right.commands, "CompleteExecution")?.output, {
    a: 1,
    approval: { ok: true },
  });
});

test("a loop of control-flow states fails with Cascade.LoopLimit instead of spinning", () => {
  const loop = definition(`name: L
states:
  - { name: A, type: Pass, next: B }
  - name: B
    type: Choice
    choices: [{ condition: "{{ $.stop }}", next: Done }]
    default: A
  - { name: Done, type: Succeed }
`);
  const step = startExecution(loop, context, 0);
  assert.equal(find(step.commands, "FailExecution")?.error.name, "Cascade.LoopLimit");
});
