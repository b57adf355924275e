/** The MessageQueue + consumer and PayloadStore contracts: every adapter must pass them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  MessageQueue,
  OutMessage,
  PayloadStore,
  QueueConsumer,
  ReceivedMessage,
} from "../../lib/core/ports.ts";

export interface QueueHarness {
  readonly queue: MessageQueue;
  readonly consumer: QueueConsumer;
  now(): number;
  /** Lets `ms` pass (virtual or real). */
  advance(ms: number): Promise<void>;
}

const message = (mid: string, notBefore?: number): OutMessage => ({
  mid,
  queue: "transitions",
  ...(notBefore === undefined ? {} : { notBefore }),
  body: {
    kind: "cancel-join",
    header: {
      tenant: "t",
      executionId: "e",
      app: "a",
      workflow: "w",
      definitionHash: "h",
      startedAt: 0,
      input: { inline: null },
    },
    joinId: mid,
  },
});

async function receiveAll(h: QueueHarness, want: number, rounds = 20): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  for (let i = 0; i < rounds && out.length < want; i++)
    out.push(...(await h.consumer.receive(10, 200)));
  return out;
}

export function queueContract(name: string, make: () => Promise<QueueHarness>): void {
  test(`${name}: sends in batches, receives, deletes`, async () => {
    const h = await make();
    await h.queue.send(
      Array.from({ length: 23 }, (_, i) => message(`m${i}`)),
      h.now(),
    );
    const got = await receiveAll(h, 23);
    assert.deepEqual(
      got.map((m) => m.envelope.mid).sort(),
      Array.from({ length: 23 }, (_, i) => `m${i}`).sort(),
    );
    assert.ok(got.every((m) => m.receiveCount === 1));
    assert.deepEqual(
      got[0]?.envelope,
      message(got[0]?.envelope.mid ?? ""),
      "the envelope arrives as sent",
    );
    await h.consumer.delete(got.map((m) => m.receipt));
    await h.advance(1_100);
    assert.deepEqual(await h.consumer.receive(10, 0), [], "deleted messages do not come back");
  });

  test(`${name}: a released message comes back with its receive count raised`, async () => {
    const h = await make();
    await h.queue.send([message("again")], h.now());
    const [first] = await receiveAll(h, 1);
    assert.ok(first);
    await h.consumer.release(first.receipt, 0);
    const [second] = await receiveAll(h, 1);
    assert.equal(second?.envelope.mid, "again");
    assert.equal(second?.receiveCount, 2);
    await h.consumer.delete([second?.receipt ?? ""]);
  });

  test(`${name}: a message delayed a second or more is not delivered before it is due`, async () => {
    const h = await make();
    await h.queue.send([message("later", h.now() + 2_000)], h.now());
    assert.deepEqual(await h.consumer.receive(10, 0), []);
    await h.advance(2_200);
    const got = await receiveAll(h, 1);
    assert.equal(got[0]?.envelope.mid, "later");
    await h.consumer.delete(got.map((m) => m.receipt));
  });
}

export function payloadContract(name: string, make: () => Promise<PayloadStore>): void {
  test(`${name}: stores and reads values, large ones included`, async () => {
    const store = await make();
    await store.put("payloads/e/a.json", JSON.stringify({ a: 1 }));
    assert.equal(await store.get("payloads/e/a.json"), '{"a":1}');
    const big = JSON.stringify("x".repeat(12 * 1024 * 1024));
    await store.put("payloads/e/big.json", big);
    assert.equal((await store.get("payloads/e/big.json")).length, big.length);
    await assert.rejects(store.get("payloads/e/missing.json"));
  });
}
