/**
 * Issue 12, finding S7: `POST …/events` (`Runtime.signal`) does work bounded by the
 * request, not by the execution — it reads the waiter index, never every step of every
 * branch thread of a wide Map.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ExecutionStore } from "../../lib/core/ports.ts";
import { memoryStack } from "../support/memory-stack.ts";

const WIDTH = 300;

/** Counts the store calls and the items (steps, entries, events) they return. */
function meter(store: ExecutionStore): { calls: number; items: number; reset(): void } {
  const m = {
    calls: 0,
    items: 0,
    reset() {
      m.calls = 0;
      m.items = 0;
    },
  };
  const target = store as unknown as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const original = target[name];
    if (name === "constructor" || typeof original !== "function") continue;
    // Writes that answer with what they wrote (a wide join's shard and tally) read nothing.
    if (name === "tallyShard" || name === "tallyJoin") continue;
    target[name] = async (...args: unknown[]) => {
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(store, args);
      m.calls++;
      if (Array.isArray(result)) m.items += result.length;
      else if (
        result &&
        typeof result === "object" &&
        Array.isArray((result as { items?: unknown }).items)
      )
        m.items += (result as { items: unknown[] }).items.length;
      else if (result !== undefined && typeof result !== "boolean") m.items += 1;
      return result;
    };
  }
  return m;
}

test("S7: an event to an execution with a 300-item Map whose root waits reads a bounded number of items", async () => {
  const source = `name: Wide
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: Task, resource: "urn:cascade:activity:work", end: true }
    result: $.out
    next: Await
  - { name: Await, type: WaitForEvent, event: approval, result: $.approval, next: Then }
  - { name: Then, type: WaitForEvent, event: done, result: $.done, end: true }
`;
  const stack = memoryStack({
    workflows: [{ file: "w.yaml", source }],
    activities: { work: () => "ok" },
  });
  const items = Array.from({ length: WIDTH }, (_, i) => i);
  await stack.runtime.startExecution("Wide", { items }, { id: "wide-1" });
  await stack.drain();
  assert.equal((await stack.execution("wide-1"))?.thread.waiting?.kind, "event");
  const m = meter(stack.store);
  // An event nobody waits for, then the one the root waits for.
  assert.equal(await stack.runtime.signal("default", "wide-1", "other", {}, "o-1"), true);
  const early = { ...m };
  m.reset();
  assert.equal(await stack.runtime.signal("default", "wide-1", "approval", { ok: 1 }, "a-1"), true);
  const taken = { ...m };
  m.reset();
  assert.equal(await stack.runtime.signal("default", "wide-1", "approval", { ok: 1 }, "a-1"), true);
  const retried = { ...m };
  console.log(`S7 figures: early ${early.items}, taken ${taken.items}, retried ${retried.items}`);
  assert.ok(early.items <= 5, `an event no state waits for read ${early.items} items`);
  assert.ok(taken.items <= 20, `the event the root takes read ${taken.items} items`);
  assert.ok(retried.items <= 20, `its retry read ${retried.items} items`);
  assert.equal(await stack.runtime.signal("default", "wide-1", "done", {}, "d-1"), true);
  await stack.drain();
  const record = await stack.execution("wide-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread));
});

test("S7: an event to 300 Map items that all wait for it reads a bounded number of items, and each event reaches one item", async () => {
  const source = `name: Gate
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: WaitForEvent, event: go, result: $.got, end: true }
    result: $.out
    end: true
`;
  const stack = memoryStack({ workflows: [{ file: "g.yaml", source }], activities: {} });
  const items = Array.from({ length: WIDTH }, (_, i) => ({ n: i }));
  await stack.runtime.startExecution("Gate", { items }, { id: "gate-1" });
  await stack.drain();
  const started = await stack.execution("gate-1");
  assert.equal(started?.thread.status, "running", JSON.stringify(started?.thread));
  const m = meter(stack.store);
  let most = 0;
  for (let i = 0; i < WIDTH; i++) {
    m.reset();
    assert.equal(
      await stack.runtime.signal("default", "gate-1", "go", { i }, `go-${i}`),
      true,
      `event ${i}`,
    );
    // The last event completes the Map, whose end reads its items' outputs (once).
    if (i < WIDTH - 1) most = Math.max(most, m.items);
    if (i === 0) {
      m.reset();
      await stack.runtime.signal("default", "gate-1", "go", { i }, "go-0"); // a retry
      most = Math.max(most, m.items);
    }
  }
  console.log(`S7 figures: most per event ${most}`);
  assert.ok(most <= 30, `an event read up to ${most} items`);
  await stack.drain();
  const record = await stack.execution("gate-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread));
  const out =
    record && "inline" in record.thread.data
      ? ((record.thread.data.inline as { out: { got: { i: number } }[] }).out ?? [])
      : [];
  assert.deepEqual(
    out.map((o) => o.got.i).sort((a, b) => a - b),
    items.map((item) => item.n),
    "every event reached exactly one item",
  );
});

test("S7: a retried event whose taker stopped before marking it finds that taker among its noted takers, not among 300 waiters", async () => {
  const source = `name: Gate
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Item, type: WaitForEvent, event: go, result: $.got, end: true }
    result: $.out
    end: true
`;
  const stack = memoryStack({ workflows: [{ file: "g.yaml", source }], activities: {} });
  const items = Array.from({ length: WIDTH }, (_, i) => ({ n: i }));
  await stack.runtime.startExecution("Gate", { items }, { id: "gate-2" });
  await stack.drain();
  const store = stack.store as unknown as Record<string, unknown>;
  const mark = store.deleteBufferedEvent as (...args: unknown[]) => Promise<void>;
  store.deleteBufferedEvent = async () => {
    throw new Error("crashed after the commit that took the event, before marking it");
  };
  await assert.rejects(stack.runtime.signal("default", "gate-2", "go", { i: 0 }, "go-0"));
  store.deleteBufferedEvent = mark;
  const m = meter(stack.store);
  assert.equal(await stack.runtime.signal("default", "gate-2", "go", { i: 0 }, "go-0"), true);
  console.log(`S7 figures: retry after an unmarked take ${m.items}`);
  assert.ok(m.items <= 30, `the retry read ${m.items} items`);
  for (let i = 1; i < WIDTH; i++)
    await stack.runtime.signal("default", "gate-2", "go", { i }, `go-${i}`);
  await stack.drain();
  const record = await stack.execution("gate-2");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread));
  const out =
    record && "inline" in record.thread.data
      ? ((record.thread.data.inline as { out: { got: { i: number } }[] }).out ?? [])
      : [];
  assert.deepEqual(
    out.map((o) => o.got.i).sort((a, b) => a - b),
    items.map((item) => item.n),
    "the retried event reached one item only",
  );
});
