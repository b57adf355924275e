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
    events: [],
    committedAt: 1_000 + version,
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
  test(`${name}: a thread is a log of steps, each written once`, async () => {
    const store = make();
    const h = header();
    const id = "root/F@1[0]";
    assert.equal(await store.putThread(thread(h, id, 1), 0), true, "step 1 is written");
    assert.equal(await store.putThread(thread(h, id, 1), 0), false, "step 1 is written once");
    assert.equal(await store.putThread(thread(h, id, 2), 1), true);
    assert.equal(
      await store.putThread(thread(h, id, 2), 1),
      false,
      "two writers of step 2: one wins",
    );
    await assert.rejects(
      async () => store.putThread(thread(h, id, 4), 2),
      RangeError,
      "a step names the step it follows",
    );
    const read = await store.getThread(h, id);
    assert.equal(read?.version, 2, "the latest step");
    assert.deepEqual(read?.thread.data, { inline: { v: 2 } });
    assert.deepEqual((await store.stateAt(h, id, 1))?.thread.data, { inline: { v: 1 } });
    assert.equal(await store.stateAt(h, id, 3), undefined);
    assert.deepEqual(
      (await store.recentSteps(h, id, 5)).map((r) => r.version),
      [2, 1],
      "newest first",
    );
    assert.deepEqual(
      (await store.recentSteps(h, id, 1)).map((r) => r.version),
      [2],
    );
    assert.equal(await store.getThread(h, "nope"), undefined);
    assert.equal(
      await store.getThread(h, "root/F@1"),
      undefined,
      "no prefix match of another thread",
    );
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
    assert.equal(
      (await store.getExecution("t1", a.executionId))?.version,
      1,
      "before its first step, an execution reads as its summary",
    );
    assert.equal(await store.putThread(thread(c, "root", 1), 0), true);
    assert.equal(await store.putThread(thread(c, "root", 2, "succeeded"), 1), true);
    await store.putSummary(thread(c, "root", 2, "succeeded"));
    assert.equal(
      (await store.getExecution("t1", c.executionId))?.version,
      2,
      "the root's latest step",
    );
    assert.equal((await store.getSummary("t1", c.executionId))?.thread.status, "succeeded");

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
    for (const id of ["root/F@1[0]", "root/F@1[1]", "root/G@2[0]", "root/F@1[0]/H@1[0]"])
      await store.putThread(thread(h, id), 0);
    await store.putThread(thread(h, "root/F@1[1]", 2), 1);
    await store.putThread(thread(h, "root", 1), 0);
    const joined = await store.joinThreads(h, "root/F@1");
    assert.deepEqual(
      joined.map((t) => `${t.thread.id}@${t.version}`).sort(),
      ["root/F@1[0]@1", "root/F@1[1]@2"],
      "the latest step of each of the join's own branches (not nested ones)",
    );
    assert.equal((await store.branchThreads(h)).length, 4, "every branch thread, not the root");

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

  test(`${name}: a wide join's shards are sets, its tally is idempotent and monotone, steps are read by key`, async () => {
    const store = make();
    const h = header();
    const join = "root/Each@1";
    const first = await store.tallyShard(h, join, 3, {
      ok: [
        { index: 301, step: 2 },
        { index: 300, step: 1 },
      ],
      bad: [],
    });
    assert.deepEqual(first.before, { ok: [], bad: [] });
    assert.deepEqual(first.after.ok, [
      { index: 300, step: 1 },
      { index: 301, step: 2 },
    ]);
    // Counted again (a redelivered report) and with a failure: the set keeps one of each.
    const again = await store.tallyShard(h, join, 3, {
      ok: [{ index: 301, step: 2 }],
      bad: [{ index: 399, step: 1_234_567 }],
    });
    assert.deepEqual(again.before.ok.length, 2);
    assert.deepEqual(again.after.ok.length, 2);
    assert.deepEqual(again.after.bad, [{ index: 399, step: 999_999 }]);
    const read = await store.readShards(h, join, [3, 4]);
    assert.deepEqual([...read.keys()], [3]);
    assert.equal(read.get(3)?.bad[0]?.index, 399);

    assert.deepEqual(await store.tallyJoin(h, join, { failures: { shard: 3, count: 2 } }), {
      shardsDone: 0,
      failures: 2,
    });
    // A late report with a smaller count leaves the larger; shards done count once each.
    assert.deepEqual(
      await store.tallyJoin(h, join, { done: 3, failures: { shard: 3, count: 1 } }),
      { shardsDone: 1, failures: 2 },
    );
    assert.deepEqual(await store.tallyJoin(h, join, { done: 3 }), { shardsDone: 1, failures: 2 });
    assert.deepEqual(
      await store.tallyJoin(h, join, { done: 5, failures: { shard: 5, count: 1 } }),
      { shardsDone: 2, failures: 3 },
    );

    for (const version of [1, 2])
      await store.putThread(thread(h, `${join}[7]`, version), version - 1);
    const steps = await store.getSteps(h, [
      { thread: `${join}[7]`, step: 2 },
      { thread: `${join}[8]`, step: 1 },
    ]);
    assert.deepEqual(
      steps.map((r) => [r.thread.id, r.version, r.header.executionId]),
      [[`${join}[7]`, 2, h.executionId]],
    );
  });

  test(`${name}: history is the steps' events, each thread in order, paged wherever a page ends`, async () => {
    const store = make();
    const h = header();
    // Steps of 4, 1, 6 and 2 events on two threads.
    const plan = [
      { thread: "root", n: 4 },
      { thread: "root/F@1[0]", n: 1 },
      { thread: "root", n: 6 },
      { thread: "root/F@1[0]", n: 2 },
    ];
    const versions = new Map<string, number>();
    const seqs = new Map<string, number>();
    for (const { thread: id, n } of plan) {
      const version = (versions.get(id) ?? 0) + 1;
      versions.set(id, version);
      const events: HistoryEvent[] = Array.from({ length: n }, () => {
        const seq = seqs.get(id) ?? 0;
        seqs.set(id, seq + 1);
        return {
          type: "StateEntered" as const,
          thread: id,
          seq,
          step: version,
          at: 5_000 + seq,
          state: `S${seq}`,
        };
      });
      assert.equal(await store.putThread({ ...thread(h, id, version), events }, version - 1), true);
    }
    const expected = [
      ...Array.from({ length: 10 }, (_, i) => `root:${i}`),
      ...Array.from({ length: 3 }, (_, i) => `root/F@1[0]:${i}`),
    ];
    for (const limit of [1, 2, 3, 5, 11, 50]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.readHistory(h.tenant, h.executionId, limit, cursor);
        assert.ok(page.items.length <= limit, `a page holds at most ${limit}`);
        seen.push(...page.items.map((e) => `${e.thread}:${e.seq}`));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 50);
      assert.deepEqual(seen, expected, `limit ${limit}: every event once, the root's first`);
      assert.ok(pages >= Math.ceil(expected.length / limit));
    }
    const other = header();
    assert.deepEqual((await store.readHistory(other.tenant, other.executionId, 10)).items, []);
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
    assert.deepEqual(await store.bufferedEventConsumer(h, "approval", "a"), {}, "not consumed yet");
    await store.noteEventTaker(h, "approval", "a", "root/W@2[1]");
    await store.noteEventTaker(h, "approval", "a", "root");
    await store.noteEventTaker(h, "approval", "a", "root/W@2[1]");
    assert.deepEqual(
      await store.bufferedEventConsumer(h, "approval", "a"),
      { takers: ["root", "root/W@2[1]"] },
      "the threads about to take it, each once; still unconsumed",
    );
    assert.deepEqual(
      await store.peekBufferedEvent(h, "approval"),
      first,
      "a noted taker takes nothing",
    );
    await store.deleteBufferedEvent(h, "approval", "a", "root/W@2[1]");
    await store.deleteBufferedEvent(h, "approval", "a", "root/W@2[1]");
    assert.deepEqual(await store.bufferedEventConsumer(h, "approval", "a"), {
      consumedBy: "root/W@2[1]",
      takers: ["root", "root/W@2[1]"],
    });
    assert.equal(await store.bufferedEventConsumer(h, "approval", "zz"), undefined);
    await store.noteEventTaker(h, "approval", "zz", "root"); // gone: no error, no event
    assert.equal(await store.bufferedEventConsumer(h, "approval", "zz"), undefined);
    assert.equal(await store.peekBufferedEvent(h, "nothing"), undefined);
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
    await store.noteFailure(h, { mid: "m-1", reason: "boom" });
    assert.deepEqual(await store.lastFailure(h), { mid: "m-1", reason: "boom" });

    assert.equal(await store.cancelRequested(h), undefined);
    await store.requestCancel(h, "changed my mind");
    assert.equal(await store.cancelRequested(h), "changed my mind");
    assert.equal(await store.cancelRequested(header()), undefined, "per execution");
  });

  test(`${name}: event waiters are indexed per event, paged, idempotent, and removed by step`, async () => {
    const store = make();
    const h = header();
    await store.createExecution(thread(h));
    // Many steps of threads that wait for nothing: the index reads none of them.
    for (let i = 0; i < 30; i++) await store.putThread(thread(h, `root/M@1[${i}]`), 0);
    assert.deepEqual(await store.eventWaiters(h, "approval", 10), { items: [] });

    await store.putEventWaiter(h, "approval", "root/M@1[3]", 2);
    await store.putEventWaiter(h, "approval", "root/M@1[3]", 2); // idempotent
    await store.putEventWaiter(h, "approval", "root/M@1[12]", 1);
    await store.putEventWaiter(h, "approval", "root/M@1[12]", 4);
    await store.putEventWaiter(h, "approval", "root/M@1[7]", 1);
    await store.putEventWaiter(h, "other", "root/M@1[5]", 1);
    await store.putEventWaiter(h, "approvals", "root/M@1[6]", 1);
    await store.putEventWaiter(header(), "approval", "root/M@1[9]", 1);

    const all: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.eventWaiters(h, "approval", 2, cursor);
      assert.ok(page.items.length <= 2, "a page holds at most `limit` entries");
      all.push(...page.items.map((w) => `${w.thread}@${w.version}`));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    assert.deepEqual(
      all,
      ["root/M@1[12]@1", "root/M@1[12]@4", "root/M@1[3]@2", "root/M@1[7]@1"],
      "that event's entries only (not a longer name's, not another execution's), by thread and step",
    );

    await store.deleteEventWaiter(h, "approval", "root/M@1[12]", 1);
    await store.deleteEventWaiter(h, "approval", "root/M@1[12]", 1); // absent: no error
    await store.deleteEventWaiter(h, "approval", "root/M@1[3]", 2);
    assert.deepEqual(
      (await store.eventWaiters(h, "approval", 10)).items.map((w) => `${w.thread}@${w.version}`),
      ["root/M@1[12]@4", "root/M@1[7]@1"],
      "a delete removes that step's entry only",
    );
    assert.deepEqual((await store.eventWaiters(h, "other", 10)).items, [
      { thread: "root/M@1[5]", version: 1 },
    ]);
  });
}
