/** The store contract against the real DynamoDB adapter on dynalite: through the SDK client and through the lean JSON client. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { ITEM, KEYS, TABLE } from "../../lib/manifest/index.ts";
import { useEmulators } from "../support/emulators.ts";
import { storeContract, thread } from "./store.contract.ts";

const env = useEmulators("store-contract");
storeContract(
  "DynamoDbExecutionStore",
  () => new DynamoDbExecutionStore(env.clients.dynamodb, env.provisioned.table),
);
storeContract(
  "DynamoDbExecutionStore (lean JSON client)",
  () => new DynamoDbExecutionStore(env.clients.lean.dynamodb, env.provisioned.table),
);

test("a history cursor from one execution is refused for another", async () => {
  const store = new DynamoDbExecutionStore(env.clients.lean.dynamodb, env.provisioned.table);
  const base = {
    tenant: "t1",
    app: "a",
    workflow: "W",
    definitionHash: "h",
    startedAt: 0,
    input: { inline: null },
  };
  const a = { ...base, executionId: "cursor-a" };
  const b = { ...base, executionId: "cursor-b" };
  // Two steps of five events: two items.
  const events = Array.from({ length: 10 }, (_, seq) => ({
    type: "StateEntered" as const,
    thread: "root",
    seq,
    step: 1,
    at: seq < 5 ? 7_000 : 7_001,
    state: `S${seq}`,
  }));
  for (const h of [a, b]) {
    await store.putThread({ ...thread(h, "root", 1), events: events.slice(0, 5) }, 0);
    await store.putThread({ ...thread(h, "root", 2), events: events.slice(5) }, 1);
  }
  const first = await store.readHistory("t1", "cursor-a", 5);
  assert.deepEqual(
    first.items.map((e) => e.seq),
    [0, 1, 2, 3, 4],
  );
  assert.ok(first.cursor, "the page ends after the first item");
  const rest = await store.readHistory("t1", "cursor-a", 5, first.cursor);
  assert.deepEqual(
    rest.items.map((e) => e.seq),
    [5, 6, 7, 8, 9],
  );
  await assert.rejects(
    store.readHistory("t1", "cursor-b", 5, first.cursor),
    /belongs to another execution/,
  );
  await assert.rejects(store.readHistory("t1", "cursor-a", 5, "not-a-cursor"), /cursor/);
});

test("steps, buffered events, cancel requests and failure notes carry the TTL attribute they are given", async () => {
  const store = new DynamoDbExecutionStore(env.clients.lean.dynamodb, env.provisioned.table);
  const header = {
    tenant: "t1",
    executionId: "ttl-1",
    app: "a",
    workflow: "W",
    definitionHash: "h",
    startedAt: 0,
    input: { inline: null },
  };
  const event = { type: "ExecutionStarted" as const, thread: "root", seq: 0, step: 0, at: 1 };
  await store.putThread({ ...thread(header, "root", 1), events: [event] }, 0, 1_900_000_000);
  const result = await env.clients.dynamodb.send(
    new QueryCommand({
      TableName: env.provisioned.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :s)",
      ExpressionAttributeValues: {
        ":pk": { S: KEYS.execution("t1", "ttl-1") },
        ":s": { S: ITEM.stepPrefix },
      },
    }),
  );
  assert.equal(result.Items?.[0]?.[TABLE.ttlAttribute]?.N, "1900000000");
  assert.equal(result.Items?.[0]?.sk?.S, "S#root#0000000001", "steps sort by number");
  await store.bufferEvent(header, "paid", "a", "0001-a", { inline: { ok: true } }, 1_900_000_001);
  await store.noteFailure(header, { mid: "m", reason: "boom" }, 1_900_000_002);
  await store.requestCancel(header, "stop", 1_900_000_003);
  const all = await env.clients.dynamodb.send(
    new QueryCommand({
      TableName: env.provisioned.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: KEYS.execution("t1", "ttl-1") } },
    }),
  );
  const ttls = (all.Items ?? []).map((item) => item[TABLE.ttlAttribute]?.N).sort();
  assert.deepEqual(
    ttls,
    ["1900000000", "1900000001", "1900000002", "1900000003"],
    "step, event, failure note, cancel request",
  );
});
