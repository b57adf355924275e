/**
 * Buffered events and event waiters on DynamoDB, in the execution's partition: an
 * event that arrives before its thread waits is kept as `E#<event>#<id>` (consumed
 * ones stay as markers), and a branch thread that waits for an event is noted as
 * `W#<event>#<thread>#<version>`.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { type EventWaiter, type Page, type Stored, StoreError } from "../../core/ports.ts";
import { ITEM, TABLE } from "../../manifest/index.ts";
import { cursorFaults, decodeCursor, encodeCursor } from "./dynamodb-cursors.ts";
import {
  type Client,
  type Item,
  isConditionFailure,
  N,
  queryItems,
  S,
  STEP_DIGITS,
} from "./dynamodb-items.ts";

export async function bufferEvent(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  id: string,
  order: string,
  payload: Stored,
  expiresAt?: number,
): Promise<boolean> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk,
          sk: S(`${ITEM.eventPrefix}${event}#${id}`),
          o: S(order),
          d: S(JSON.stringify(payload)),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return false;
    throw error;
  }
}

export async function peekBufferedEvent(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
): Promise<{ key: string; payload: Stored } | undefined> {
  // Every waiting event of that name (few), the oldest by arrival; consumed ones are markers.
  const prefix = `${ITEM.eventPrefix}${event}#`;
  let best: { order: string; key: string; d: string } | undefined;
  let start: Item | undefined;
  do {
    const result = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        FilterExpression: "attribute_not_exists(c)",
        ExpressionAttributeValues: { ":pk": pk, ":prefix": S(prefix) },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of result.Items ?? []) {
      const key = item.sk?.S?.slice(prefix.length);
      const d = item.d?.S;
      if (key === undefined || d === undefined) continue;
      const order = item.o?.S ?? key;
      if (!best || order < best.order) best = { order, key, d };
    }
    start = result.LastEvaluatedKey;
  } while (start);
  return best ? { key: best.key, payload: JSON.parse(best.d) as Stored } : undefined;
}

export async function bufferedEventConsumer(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  key: string,
): Promise<{ consumedBy?: string; takers?: readonly string[] } | undefined> {
  const result = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { pk, sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
      ProjectionExpression: "c, #by, tk",
      ExpressionAttributeNames: { "#by": "by" },
      ConsistentRead: true,
    }),
  );
  if (!result.Item) return undefined;
  const by = result.Item.by?.S;
  const takers = result.Item.tk?.SS;
  return {
    ...(by === undefined ? {} : { consumedBy: by }),
    ...(takers?.length ? { takers: [...takers].sort() } : {}),
  };
}

export async function noteEventTaker(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  key: string,
  thread: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk, sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
        UpdateExpression: "ADD tk :t",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":t": { SS: [thread] } },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export async function deleteBufferedEvent(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  key: string,
  consumedBy?: string,
): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk, sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
      UpdateExpression:
        consumedBy === undefined ? "SET c = :c REMOVE d" : "SET c = :c, #by = :by REMOVE d",
      ExpressionAttributeValues: {
        ":c": { BOOL: true },
        ...(consumedBy === undefined ? {} : { ":by": S(consumedBy) }),
      },
      ...(consumedBy === undefined ? {} : { ExpressionAttributeNames: { "#by": "by" } }),
    }),
  );
}

function waiterSk(event: string, thread: string, version: number): AttributeValue {
  return S(`${ITEM.waiterPrefix}${event}#${thread}#${String(version).padStart(STEP_DIGITS, "0")}`);
}

export async function putEventWaiter(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  thread: string,
  version: number,
  expiresAt?: number,
): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk,
        sk: waiterSk(event, thread, version),
        d: S(JSON.stringify({ thread, version })),
        ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
      },
    }),
  );
}

export async function deleteEventWaiter(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  thread: string,
  version: number,
): Promise<void> {
  await client.send(
    new DeleteItemCommand({
      TableName: table,
      Key: { pk, sk: waiterSk(event, thread, version) },
    }),
  );
}

export function eventWaiters(
  client: Client,
  table: string,
  pk: AttributeValue,
  event: string,
  limit: number,
  cursor?: string,
): Promise<Page<EventWaiter>> {
  return cursorFaults(cursor, async () => {
    const start = cursor === undefined ? undefined : decodeCursor(cursor);
    if (start && start[TABLE.partitionKey]?.S !== pk.S)
      throw new StoreError("INVALID_CURSOR", "the cursor belongs to another execution");
    const page = await queryItems<EventWaiter>(client, table, {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: {
        ":pk": pk,
        ":prefix": S(`${ITEM.waiterPrefix}${event}#`),
      },
      Limit: limit,
      ConsistentRead: true,
      ...(start ? { ExclusiveStartKey: start } : {}),
    });
    return page.last
      ? { items: page.items, cursor: encodeCursor(page.last) }
      : { items: page.items };
  });
}
