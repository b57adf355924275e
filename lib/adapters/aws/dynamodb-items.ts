/** The DynamoDB store's item helpers: attribute values, the step key's width, a query's page. */

import { deflateRawSync, inflateRawSync } from "node:zlib";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { TABLE } from "../../manifest/index.ts";

export type Item = Record<string, AttributeValue>;
export type Client = Pick<DynamoDBClient, "send">;

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

/** Steps are numbered with this many digits in their sort key (lexical order is step order). */
export const STEP_DIGITS = 10;

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error).name === "ConditionalCheckFailedException"
  );
}

/**
 * How a client carries a binary attribute: the lean JSON client (json-client.ts) sends
 * the item as AWS JSON, where `B` is base64 text; the SDK client takes and gives bytes.
 */
export type BinaryWire = "base64" | "bytes";

/**
 * A record's JSON from this many bytes is stored deflated, as a binary `d`: DynamoDB
 * bills writes per KB of item, and a step's JSON — the same field names and the same
 * data in its events, thread and outbox — deflates to about a third (a seed order
 * step: 2,350 bytes to 716), so most steps fit one write unit. Smaller records stay text.
 */
export const PACK_FROM_BYTES = 400;

/** The largest record a packed `d` may inflate to (an item is at most 400 KB, its JSON less than 4 MiB). */
const MAX_UNPACKED_BYTES = 4 * 1024 * 1024;

/** `value` as the `d` attribute: JSON text, or deflated JSON past `PACK_FROM_BYTES`. */
export function packRecord(value: unknown, wire: BinaryWire): AttributeValue {
  const json = JSON.stringify(value);
  if (json.length < PACK_FROM_BYTES) return { S: json };
  // Level 1: a step's JSON deflates to within 2 % of the default level's size in less
  // than half its CPU (14 µs against 33 µs for a seed order step), on the hot path.
  const bytes = deflateRawSync(json, { level: 1 });
  return { B: wire === "base64" ? (bytes.toString("base64") as unknown as Uint8Array) : bytes };
}

/** A `d` attribute's record, text or packed; undefined when there is none. */
export function unpackRecord<T = unknown>(value: AttributeValue | undefined): T | undefined {
  if (value?.S !== undefined) return JSON.parse(value.S) as T;
  const bytes = value?.B as Uint8Array | string | undefined;
  if (bytes === undefined) return undefined;
  const raw = typeof bytes === "string" ? Buffer.from(bytes, "base64") : Buffer.from(bytes);
  return JSON.parse(
    inflateRawSync(raw, { maxOutputLength: MAX_UNPACKED_BYTES }).toString("utf8"),
  ) as T;
}

/** An unconditional put of one small record of an execution (its cancel request, its last failure). */
export async function putRecord(
  client: Client,
  table: string,
  pk: AttributeValue,
  sk: string,
  value: unknown,
  expiresAt?: number,
): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk,
        sk: S(sk),
        d: S(JSON.stringify(value)),
        ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
      },
    }),
  );
}

/** One page of a query: the items' `d` records, and the key to go on from when there are more. */
export async function queryItems<T>(
  client: Client,
  table: string,
  input: Omit<QueryCommandInput, "TableName">,
): Promise<{ items: T[]; last?: Item }> {
  const result = await client.send(new QueryCommand({ TableName: table, ...input }));
  const items = (result.Items ?? []).flatMap((item) => {
    const record = unpackRecord<T>(item.d);
    return record === undefined ? [] : [record];
  });
  return result.LastEvaluatedKey ? { items, last: result.LastEvaluatedKey } : { items };
}
