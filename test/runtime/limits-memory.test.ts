/** AWS's limits as the memory adapters enforce them: DynamoDB items, SQS messages and batches, S3 keys. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AwsLimitError,
  assertItemWithinLimits,
  assertMessageWithinLimits,
  assertObjectWithinLimits,
  assertSendBatchWithinLimits,
  dynamoItemBytes,
  sqsBatches,
} from "../../lib/adapters/memory/limits.ts";
import { MemoryPayloadStore } from "../../lib/adapters/memory/payloads.ts";
import { MemoryQueues, receiptSlot } from "../../lib/adapters/memory/queue.ts";
import type { OutMessage } from "../../lib/core/ports.ts";
import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  S3_KEY_LIMIT_BYTES,
  SQS_MESSAGE_LIMIT_BYTES,
} from "../../lib/manifest/index.ts";

const refused = (code: string) => (error: unknown) =>
  error instanceof AwsLimitError && error.code === code;

test("DynamoDB item sizes count attribute names and values as DynamoDB documents them", () => {
  assert.equal(dynamoItemBytes({ a: "xyz" }), 1 + 3);
  assert.equal(dynamoItemBytes({ n: 12345 }), 1 + 4, "5 significant digits: 3 + 1 bytes");
  assert.equal(dynamoItemBytes({ b: true, z: null }), 2 + 2);
  assert.equal(dynamoItemBytes({ l: ["ab", 1] }), 1 + 3 + (1 + 2) + (1 + 2));
  assert.equal(dynamoItemBytes({ m: { key: "v" } }), 1 + 3 + (1 + 3 + 1));
  assert.equal(dynamoItemBytes({ gone: undefined }), 0, "undefined is not marshalled");
  assert.equal(dynamoItemBytes({ s: "é" }), 1 + 2, "strings count UTF-8 bytes");
});

test("an item over 400 KB, or a key over DynamoDB's key limits, is refused with ValidationException", () => {
  const name = "data";
  const fits = { [name]: "x".repeat(DYNAMODB_ITEM_LIMIT_BYTES - name.length) };
  assertItemWithinLimits(fits);
  const over = { [name]: "x".repeat(DYNAMODB_ITEM_LIMIT_BYTES - name.length + 1) };
  assert.throws(() => assertItemWithinLimits(over, "T#root"), refused("ValidationException"));
  assert.throws(
    () => assertItemWithinLimits({}, "k", { sortKey: "s".repeat(1025) }),
    refused("ValidationException"),
  );
  assert.throws(
    () => assertItemWithinLimits({}, "k", { partitionKey: "p".repeat(2049) }),
    refused("ValidationException"),
  );
  assertItemWithinLimits({}, "k", { partitionKey: "p".repeat(2048), sortKey: "s".repeat(1024) });
});

test("an SQS message over 256 KiB or with a character SQS refuses is refused", () => {
  assertMessageWithinLimits("x".repeat(SQS_MESSAGE_LIMIT_BYTES));
  assert.throws(
    () => assertMessageWithinLimits("x".repeat(SQS_MESSAGE_LIMIT_BYTES + 1)),
    refused("InvalidParameterValue"),
  );
  assert.throws(
    () => assertMessageWithinLimits("é".repeat(SQS_MESSAGE_LIMIT_BYTES / 2 + 1)),
    refused("InvalidParameterValue"),
    "the limit is in UTF-8 bytes, not characters",
  );
  assert.throws(
    () => assertMessageWithinLimits(JSON.stringify({ v: "\uFFFF" })),
    refused("InvalidMessageContents"),
    "JSON.stringify leaves U+FFFF as it is; SQS refuses it",
  );
  assertMessageWithinLimits(JSON.stringify({ v: "tab\tok \u{1F600}", c: "\u0001" }));
});

test("SendMessageBatch: 1 to 10 entries and 256 KiB in all; bodies split as the SQS adapter does", () => {
  assert.throws(() => assertSendBatchWithinLimits([]), refused("EmptyBatchRequest"));
  assert.throws(
    () => assertSendBatchWithinLimits(Array.from({ length: 11 }, () => "m")),
    refused("TooManyEntriesInBatchRequest"),
  );
  const half = "x".repeat(SQS_MESSAGE_LIMIT_BYTES / 2);
  assert.throws(
    () => assertSendBatchWithinLimits([half, half, "x"]),
    refused("BatchRequestTooLong"),
  );
  assert.deepEqual(
    sqsBatches(Array.from({ length: 23 }, () => "m")).map((b) => b.length),
    [10, 10, 3],
  );
  assert.deepEqual(
    sqsBatches([half, half, "x"]).map((b) => b.length),
    [2, 1],
  );
});

test("S3 keys over 1024 bytes are refused", () => {
  assertObjectWithinLimits("k".repeat(S3_KEY_LIMIT_BYTES), "{}");
  assert.throws(
    () => assertObjectWithinLimits("k".repeat(S3_KEY_LIMIT_BYTES + 1), "{}"),
    refused("KeyTooLongError"),
  );
});

const header = {
  tenant: "t",
  executionId: "e",
  app: "a",
  workflow: "w",
  definitionHash: "h",
  startedAt: 0,
  input: { inline: null },
};
const message = (mid: string, pad = 0): OutMessage => ({
  mid,
  queue: "transitions",
  body: { kind: "cancel-join", header, joinId: "x".repeat(pad) },
});

test("the memory queues refuse an oversized message whole, and count the batches SQS would take", async () => {
  const queues = new MemoryQueues({ now: () => 0 });
  await queues.send(
    Array.from({ length: 12 }, (_, i) => message(`m${i}`)),
    0,
  );
  assert.equal(queues.calls.batches, 2);
  await assert.rejects(
    queues.send([message("ok"), message("big", SQS_MESSAGE_LIMIT_BYTES)], 0),
    refused("InvalidParameterValue"),
  );
  assert.equal(queues.pending(), 12, "nothing of a refused send is queued");
  const [first] = await queues.queue("transitions").receive(1);
  assert.equal(receiptSlot(first?.receipt ?? ""), 0);
});

test("the memory queues report each dead letter with its slot", async () => {
  const dead: number[] = [];
  const queues = new MemoryQueues({
    now: () => 0,
    maxReceiveCount: 2,
    visibilityTimeoutMs: 0,
    onDeadLetter: (_envelope, slot) => dead.push(slot),
  });
  await queues.send([message("poison")], 0);
  const q = queues.queue("transitions");
  assert.equal((await q.receive(1)).length, 1);
  assert.equal((await q.receive(1)).length, 1);
  assert.equal((await q.receive(1)).length, 0);
  assert.deepEqual(dead, [0]);
  assert.equal(q.dead.length, 1);
});

test("the memory payload store refuses keys S3 would refuse", async () => {
  const payloads = new MemoryPayloadStore();
  await assert.rejects(
    payloads.put(`payloads/${"k".repeat(1100)}`, "{}"),
    refused("KeyTooLongError"),
  );
  await payloads.put("payloads/e/a.json", "{}");
  assert.equal(await payloads.get("payloads/e/a.json"), "{}");
});
