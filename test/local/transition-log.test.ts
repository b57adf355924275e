/** The `cascade dev` log: one readable line per transition, or JSON lines. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import type { HistoryEvent } from "../../lib/core/engine/types.ts";
import type { ExecutionHeader } from "../../lib/core/ports.ts";
import {
  formatRuntimeLine,
  formatTransition,
  observeHistory,
} from "../../lib/local/transition-log.ts";

const HEADER: ExecutionHeader = {
  tenant: "default",
  executionId: "order-1",
  app: "shop",
  workflow: "OrderFulfillment",
  definitionHash: "abc",
  startedAt: 0,
  input: { inline: {} },
};
const at = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
const event = (e: Partial<HistoryEvent> & Pick<HistoryEvent, "type">): HistoryEvent => ({
  thread: "root",
  seq: 0,
  step: 1,
  at,
  ...e,
});

test("text: time, workflow, execution, state and what happened", () => {
  assert.equal(
    formatTransition(
      HEADER,
      event({
        type: "ActivityFailed",
        state: "ValidateOrder",
        attempt: 2,
        error: { name: "Transient", message: "try again" },
      }),
      "text",
    ),
    "03:04:05.678 OrderFulfillment order-1 ValidateOrder activity failed (attempt 2): Transient: try again",
  );
  assert.equal(
    formatTransition(HEADER, event({ type: "ExecutionSucceeded", output: { ok: true } }), "text"),
    '03:04:05.678 OrderFulfillment order-1 SUCCEEDED output={"ok":true}',
  );
  assert.match(
    formatTransition(
      HEADER,
      event({ type: "StateEntered", state: "CheckCredit", thread: "j1[1]" }),
      "text",
    ) ?? "",
    /order-1 \[j1\[1\]\] CheckCredit entered$/,
  );
});

test("text leaves out events a neighbouring line already says; JSON keeps every one", () => {
  assert.equal(
    formatTransition(HEADER, event({ type: "StateExited", state: "A" }), "text"),
    undefined,
  );
  const json = JSON.parse(
    formatTransition(HEADER, event({ type: "StateExited", state: "A" }), "json") ?? "",
  );
  assert.deepEqual(
    {
      event: json.event,
      execution: json.execution,
      workflow: json.workflow,
      state: json.state,
      tenant: json.tenant,
    },
    {
      event: "StateExited",
      execution: "order-1",
      workflow: "OrderFulfillment",
      state: "A",
      tenant: "default",
    },
  );
  assert.equal(json.time, "2030-01-02T03:04:05.678Z");
});

test("long outputs are cut in text lines", () => {
  const line =
    formatTransition(
      HEADER,
      event({ type: "ExecutionSucceeded", output: "x".repeat(1000) }),
      "text",
    ) ?? "";
  assert.ok(line.length < 250, line);
  assert.ok(line.endsWith("…"));
});

test("runtime lines: metric records are dropped in text, activity logs made readable, JSON passes through", () => {
  const metric = JSON.stringify({ _aws: { Timestamp: 1 }, WorkflowDuration: 3 });
  assert.equal(formatRuntimeLine(metric, "text"), undefined);
  assert.equal(formatRuntimeLine(metric, "json"), metric);
  const log = JSON.stringify({
    level: "info",
    message: "checking",
    execution: "order-1",
    workflow: "W",
    state: "S",
    attempt: 1,
    customer: "c1",
  });
  assert.match(
    formatRuntimeLine(log, "text") ?? "",
    / W order-1 S \[info\] checking \{"customer":"c1"\}$/,
  );
  assert.equal(formatRuntimeLine("plain text", "text"), "plain text");
  // ctx.logger's lines carry their time and activity; the text line shows the time.
  const timed = JSON.stringify({
    time: "2030-01-02T03:04:05.678Z",
    level: "warn",
    message: "slow",
    activity: "charge",
    execution: "order-1",
    workflow: "W",
    state: "S",
    attempt: 2,
  });
  assert.match(
    formatRuntimeLine(timed, "text") ?? "",
    /^03:04:05\.678 W order-1 S \[warn\] slow \(attempt 2\)$/,
  );
});

test("observeHistory reports the events of each committed step, after it is written", async () => {
  const seen: string[] = [];
  const store = observeHistory(new MemoryExecutionStore(), (header, events) => {
    for (const e of events) seen.push(`${header.executionId}:${e.type}`);
  });
  const other = { ...HEADER, executionId: "order-2" };
  const step = (header: typeof HEADER, version: number, events: HistoryEvent[]) => ({
    header,
    version,
    causedBy: `m-${version}`,
    outbox: [],
    events,
    committedAt: 1,
    thread: {
      id: "root",
      flow: [],
      status: "running" as const,
      current: "A",
      step: version,
      attempt: 1,
      enteredAt: 0,
      data: { inline: null },
      rng: 1,
      transitions: version,
      recorded: events.length,
    },
  });
  assert.equal(
    await store.putThread(step(HEADER, 1, [event({ type: "ExecutionStarted" })]), 0),
    true,
  );
  assert.equal(
    await store.putThread(
      step(HEADER, 2, [event({ type: "StateEntered", seq: 1, state: "A" })]),
      1,
    ),
    true,
  );
  assert.equal(
    await store.putThread(
      step(HEADER, 2, [event({ type: "StateEntered", seq: 1, state: "B" })]),
      1,
    ),
    false,
    "a step that lost its conditional write is not reported",
  );
  await store.putThread(step(other, 1, [event({ type: "ExecutionStarted" })]), 0);
  assert.deepEqual(seen, [
    "order-1:ExecutionStarted",
    "order-1:StateEntered",
    "order-2:ExecutionStarted",
  ]);
  const page = await store.readHistory("default", "order-1", 10);
  assert.equal(page.items.length, 2, "the events were written before they were reported");
});
