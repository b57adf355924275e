/** The ExecutionStore contract: every adapter must pass it (memory and DynamoDB). */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryEvent } from "../../lib/core/engine/index.ts";
import type {
  ExecutionHeader,
  ExecutionStore,
  JoinRecord,
  ThreadRecord,
} from "../../lib/core/ports.ts";

let counter = 0;
export function header(overrides: Partial<ExecutionHeader> = {}): ExecutionHeader {
  counter++;
  return {
    tenant: "t1",
    executionId: `e-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    app: "shop",
    workflow: "Order",
    definitionHash: "h",
    startedAt: Date.UTC(2026, 0, 1) + counter * 1000,
    input: { inline: { n: counter } },
    ...overrides,
  };
}

export function thread(
  h: ExecutionHeader,
  id = "root",
  version = 1,
  status: "running" | "succeeded" = "running",
): ThreadRecord {
  return {
    header: h,
    version,
    causedBy: `m-${version}`,
    outbox: [],
    thread: {
      id,
      flow: [],
      status,
      current: "A",
      step: version,
      attempt: 1,
      enteredAt: 0,
      data: { inline: { v: version } },
      rng: 1,
      transitions: version,
      recorded: 0,
    },
  };
}

export function storeContract(name: string, make: () => ExecutionStore): void {
  test(`${name}: conditional writes on the version`, async () => {
    const store = make();
    const h = header();
    assert.equal(
      await store.putThread(thread(h, "root/F@1[0]", 1), 0),
      true,
      "creates when absent",
    );
    assert.equal(
      await store.putThread(thread(h, "root/F@1[0]", 1), 0),
      false,
      "expected 0 fails when present",
    );
    assert.equal(await store.putThread(thread(h, "root/F@1[0]", 2), 1), true);
    assert.equal(
      await store.putThread(thread(h, "root/F@1[0]", 3), 1),
      false,
      "a stale version fails",
    );
    const read = await store.getThread(h, "root/F@1[0]");
    assert.equal(read?.version, 2);
    assert.deepEqual(read?.thread.data, { inline: { v: 2 } });
    assert.equal(await store.getThread(h, "nope"), undefined);
  });

  test(`${name}: executions are created once and listed by app, workflow and status, newest first`, async () => {
    const store = make();
    const app = `app-${Math.random().toString(36).slice(2, 8)}`;
    const a = header({ app, workflow: "A" });
    const b = header({ app, workflow: "B" });
    const c = header({ app, workflow: "A" });
    for (const h of [a, b, c])
      assert.deepEqual(await store.createExecution(thread(h)), { created: true });
    const again = await store.createExecution({ ...thread(a), causedBy: "other" });
    assert.equal(again.created, false);
    if (!again.created) assert.equal(again.existing.causedBy, "m-1", "the first one is kept");
    assert.equal(await store.putThread(thread(c, "root", 2, "succeeded"), 1), true);

    const all = await store.listExecutions({ tenant: "t1", app }, 10);
    assert.deepEqual(
      all.items.map((i) => i.header.executionId),
      [c, b, a].map((h) => h.executionId),
    );
    const onlyA = await store.listExecutions({ tenant: "t1", app, workflow: "A" }, 10);
    assert.deepEqual(
      onlyA.items.map((i) => i.header.executionId),
      [c, a].map((h) => h.executionId),
    );
    const done = await store.listExecutions({ tenant: "t1", app, status: "succeeded" }, 10);
    assert.deepEqual(
      done.items.map((i) => i.header.executionId),
      [c.executionId],
    );
    const running = await store.listExecutions(
      { tenant: "t1", app, workflow: "A", status: "running" },
      10,
    );
    assert.deepEqual(
      running.items.map((i) => i.header.executionId),
      [a.executionId],
    );

    const first = await store.listExecutions({ tenant: "t1", app }, 2);
    assert.equal(first.items.length, 2);
    assert.ok(first.cursor);
    const second = await store.listExecutions({ tenant: "t1", app }, 2, first.cursor);
    assert.deepEqual(
      second.items.map((i) => i.header.executionId),
      [a.executionId],
    );
    assert.equal(second.cursor, undefined);

    const otherTenant = await store.listExecutions({ tenant: "t2", app }, 10);
    assert.deepEqual(otherTenant.items, [], "tenants never see each other's executions");
    assert.equal(await store.getExecution("t2", a.executionId), undefined);
  });

  test(`${name}: join threads and joins`, async () => {
    const store = make();
    const h = header();
    await store.createExecution(thread(h));
    for (const id of ["root/F@1[0]", "root/F@1[1]", "root/G@2[0]"])
      await store.putThread(thread(h, id), 0);
    assert.deepEqual((await store.joinThreads(h, "root/F@1")).map((t) => t.thread.id).sort(), [
      "root/F@1[0]",
      "root/F@1[1]",
    ]);
    assert.equal((await store.branchThreads(h)).length, 3, "every branch thread, not the root");

    const join: JoinRecord = {
      header: h,
      version: 1,
      causedBy: "m",
      inputs: { inline: [1, 2] },
      starts: [{ mid: "m", indexes: [0, 1] }],
      join: {
        id: "root/F@1",
        kind: "parallel",
        parentThread: "root",
        parentFlow: [],
        parentStep: 1,
        state: "F",
        total: 2,
        waitForAll: true,
        required: 2,
        toleratedFailures: 0,
        maxConcurrency: 0,
        started: 2,
        succeeded: [],
        failed: [],
        status: "open",
      },
    };
    assert.equal(await store.putJoin(join, 0), true);
    assert.equal(await store.putJoin(join, 0), false, "a join is created once");
    const closed: JoinRecord = {
      ...join,
      version: 2,
      closedBy: "n",
      join: { ...join.join, succeeded: [0, 1], status: "succeeded" },
    };
    assert.equal(await store.putJoin(closed, 2), false, "a stale version fails");
    assert.equal(await store.putJoin(closed, 1), true);
    assert.deepEqual(await store.getJoin(h, "root/F@1"), closed);
  });

  test(`${name}: history is idempotent, ordered and paged`, async () => {
    const store = make();
    const h = header();
    const events: HistoryEvent[] = Array.from({ length: 30 }, (_, i) => ({
      type: "StateEntered",
      thread: i % 2 === 0 ? "root" : "root/F@1[0]",
      seq: i,
      step: i,
      at: 1_000 + i,
      state: `S${i}`,
    }));
    await store.appendHistory(h, events.slice(0, 20));
    await store.appendHistory(h, events.slice(10));
    const seen: HistoryEvent[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.readHistory(h.tenant, h.executionId, 7, cursor);
      seen.push(...page.items);
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    assert.deepEqual(
      seen.map((e) => e.seq),
      events.map((e) => e.seq),
      "each event once, in time order",
    );
    assert.ok(pages >= 5);
  });

  test(`${name}: several executions' history in one append, each under its own execution`, async () => {
    const store = make();
    const a = header();
    const b = { ...header(), executionId: `${a.executionId}-b` };
    const event = (seq: number): HistoryEvent => ({
      type: "StateEntered",
      thread: "root",
      seq,
      step: seq,
      at: 2_000 + seq,
      state: `S${seq}`,
    });
    // 40 events: more than one BatchWriteItem's 25, across two executions.
    await store.appendHistories([
      { header: a, events: Array.from({ length: 30 }, (_, i) => event(i)) },
      { header: b, events: Array.from({ length: 10 }, (_, i) => event(i)) },
    ]);
    await store.appendHistories([{ header: b, events: [event(9), event(10)] }]);
    const pageA = await store.readHistory(a.tenant, a.executionId, 100);
    const pageB = await store.readHistory(b.tenant, b.executionId, 100);
    assert.equal(pageA.items.length, 30);
    assert.deepEqual(
      pageB.items.map((e) => e.seq),
      Array.from({ length: 11 }, (_, i) => i),
    );
  });

  test(`${name}: a step's events (one thread, one time) page correctly wherever a page ends`, async () => {
    const store = make();
    const h = header();
    // Three steps of 4, 1 and 6 events; two threads; written twice (idempotent).
    const steps = [
      { thread: "root", at: 5_000, n: 4 },
      { thread: "root/F@1[0]", at: 5_000, n: 1 },
      { thread: "root", at: 5_001, n: 6 },
    ];
    let seq = 0;
    const events: HistoryEvent[] = steps.flatMap(({ thread, at, n }) =>
      Array.from({ length: n }, () => ({
        type: "StateEntered" as const,
        thread,
        seq: seq++,
        step: 1,
        at,
        state: `S${seq}`,
      })),
    );
    await store.appendHistories([{ header: h, events }]);
    await store.appendHistories([{ header: h, events }]);
    for (const limit of [1, 2, 3, 5, 11, 50]) {
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.readHistory(h.tenant, h.executionId, limit, cursor);
        assert.ok(page.items.length <= limit, `a page holds at most ${limit}`);
        seen.push(...page.items.map((e) => e.seq));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 50);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        events.map((e) => e.seq),
        `limit ${limit}: every event once`,
      );
      assert.ok(pages >= Math.ceil(events.length / limit));
    }
  });

  test(`${name}: definitions, buffered events, failures`, async () => {
    const store = make();
    const h = header();
    await store.putDefinition("abc", "Order", "states: []");
    assert.deepEqual(await store.getDefinition("abc"), { name: "Order", source: "states: []" });
    assert.equal(await store.getDefinition("nope"), undefined);

    // Ids are the senders'; the order is arrival.
    assert.equal(await store.bufferEvent(h, "approval", "b", "0002-b", { inline: 2 }), true);
    assert.equal(await store.bufferEvent(h, "approval", "a", "0001-a", { inline: 1 }), true);
    assert.equal(await store.bufferEvent(h, "other", "c", "0003-c", { inline: 3 }), true);
    assert.equal(
      await store.bufferEvent(h, "approval", "a", "0009-a", { inline: 99 }),
      false,
      "an id already buffered is refused",
    );
    const first = await store.peekBufferedEvent(h, "approval");
    assert.deepEqual(first, { key: "a", payload: { inline: 1 } }, "oldest first");
    assert.deepEqual(await store.peekBufferedEvent(h, "approval"), first, "peeking takes nothing");
    await store.deleteBufferedEvent(h, "approval", "a");
    await store.deleteBufferedEvent(h, "approval", "a");
    assert.deepEqual(await store.peekBufferedEvent(h, "approval"), {
      key: "b",
      payload: { inline: 2 },
    });
    assert.equal(
      await store.bufferEvent(h, "approval", "a", "0010-a", { inline: 1 }),
      false,
      "an id already consumed stays used: a retried send is not delivered twice",
    );
    await store.deleteBufferedEvent(h, "approval", "b");
    assert.equal(await store.peekBufferedEvent(h, "approval"), undefined);
    assert.deepEqual((await store.peekBufferedEvent(h, "other"))?.payload, { inline: 3 });

    assert.equal(await store.lastFailure(h), undefined);
    await store.noteFailure(h, "boom");
    assert.equal(await store.lastFailure(h), "boom");
  });
}
