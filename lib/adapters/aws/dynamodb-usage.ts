/** An execution's usage on DynamoDB: the `u` attribute of its items, and their sum. */
import { type AttributeValue, QueryCommand } from "@aws-sdk/client-dynamodb";
import { addUsage, NO_USAGE, type Usage } from "../../core/ports.ts";
import { type Client, type Item, S } from "./dynamodb-items.ts";

/** The `u` attribute's short names: items are billed per KB, and it is on every step. */
const USAGE_NAMES = {
  wcu: "w",
  rcu: "r",
  sqs: "q",
  s3: "p",
  s3Get: "g",
  invocations: "i",
  gbs: "s",
} as const satisfies Record<keyof Usage, string>;

/** The `u` attribute: an item's recorded usage (zeros left out), apart from `d` so a sum reads only it. */
export function usageAttribute(usage: Usage | undefined): Item {
  if (!usage) return {};
  const u: Record<string, number> = {};
  for (const [name, short] of Object.entries(USAGE_NAMES)) {
    const value = Math.round(usage[name as keyof Usage] * 1e6) / 1e6;
    if (value !== 0) u[short] = value;
  }
  return { u: S(JSON.stringify(u)) };
}

/** A `u` attribute read back. */
function usageOfAttribute(text: string): Usage {
  const u = JSON.parse(text) as Record<string, number>;
  const usage: Record<string, number> = {};
  for (const [name, short] of Object.entries(USAGE_NAMES)) usage[name] = u[short] ?? 0;
  return usage as unknown as Usage;
}

/** Write units DynamoDB bills for putting `item`: 1 per KB of names and values, rounded up. */
export function itemWriteUnits(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (value.S !== undefined) bytes += Buffer.byteLength(value.S);
    else if (value.N !== undefined) bytes += Math.ceil(value.N.length / 2) + 1;
    else bytes += Buffer.byteLength(JSON.stringify(value));
  }
  return Math.max(1, Math.ceil(bytes / 1024));
}

export async function usageOf(
  client: Client,
  table: string,
  pk: AttributeValue,
  maxItems: number,
): Promise<{ usage: Usage; complete: boolean }> {
  let total = NO_USAGE;
  let start: Item | undefined;
  let read = 0;
  do {
    const result = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
        ProjectionExpression: "u",
        Limit: maxItems - read,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of result.Items ?? []) {
      const u = item.u?.S;
      if (u !== undefined) total = addUsage(total, usageOfAttribute(u));
    }
    read += result.Count ?? result.Items?.length ?? 0;
    start = result.LastEvaluatedKey;
  } while (start && read < maxItems);
  return { usage: total, complete: start === undefined };
}
