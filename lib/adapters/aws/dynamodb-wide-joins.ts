/**
 * A wide join's shards and tally on DynamoDB (DESIGN.md section 9), beside its record
 * `J#<join>`: each shard `J#<join>#s<k>` keeps the items that ended in two number sets
 * (`ok`, `bad`; an element is `index × 1,000,000 + step`), the tally `J#<join>#t` the
 * finished shards (`sd`, a number set) and each shard's failures (`f<k>`, raised only).
 * Adding to a set is idempotent, so a report counted again changes nothing, and each
 * write is O(shard size) bytes whatever the width: no transaction, no read first.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  ENDED_STEP_UNKNOWN,
  type ExecutionHeader,
  type JoinTally,
  type ShardTally,
  type ThreadRecord,
  withEnded,
} from "../../core/ports.ts";
import { ITEM, TABLE } from "../../manifest/index.ts";
import { expandStep } from "../step-log.ts";
import { unpackRecord } from "./dynamodb-items.ts";

type Item = Record<string, AttributeValue>;
type Client = Pick<DynamoDBClient, "send">;

/** BatchGetItem's most keys per call. */
const BATCH_GET_KEYS = 100;
/** Tries of a batch read's unprocessed keys before it fails. */
const BATCH_GET_TRIES = 8;

const STEP_RADIX = ENDED_STEP_UNKNOWN + 1;

const encode = ({ index, step }: { index: number; step: number }): string =>
  String(index * STEP_RADIX + Math.min(step, ENDED_STEP_UNKNOWN));

function decode(values: readonly string[] | undefined): { index: number; step: number }[] {
  return (values ?? [])
    .map((value) => {
      const n = Number(value);
      return { index: Math.floor(n / STEP_RADIX), step: n % STEP_RADIX };
    })
    .sort((a, b) => a.index - b.index);
}

const shardOf = (item: Item | undefined): ShardTally => ({
  ok: decode(item?.ok?.NS),
  bad: decode(item?.bad?.NS),
});

export const shardKey = (joinId: string, shard: number): string =>
  `${ITEM.joinPrefix}${joinId}#s${shard}`;
export const tallyKey = (joinId: string): string => `${ITEM.joinPrefix}${joinId}#t`;

export async function tallyShard(
  client: Client,
  table: string,
  pk: AttributeValue,
  joinId: string,
  shard: number,
  add: ShardTally,
  expiresAt?: number,
): Promise<{ before: ShardTally; after: ShardTally }> {
  const update = new Expression();
  if (add.ok.length > 0) update.add("ok", { NS: add.ok.map(encode) });
  if (add.bad.length > 0) update.add("bad", { NS: add.bad.map(encode) });
  if (expiresAt !== undefined) update.set(TABLE.ttlAttribute, { N: String(expiresAt) });
  const result = await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { [TABLE.partitionKey]: pk, [TABLE.sortKey]: { S: shardKey(joinId, shard) } },
      ...update.build(),
      ReturnValues: "ALL_OLD",
    }),
  );
  const before = shardOf(result.Attributes);
  return { before, after: withEnded(before, add) };
}

export async function readShards(
  client: Client,
  table: string,
  pk: AttributeValue,
  joinId: string,
  shards: readonly number[],
): Promise<Map<number, ShardTally>> {
  const out = new Map<number, ShardTally>();
  const keys = shards.map((shard) => ({
    [TABLE.partitionKey]: pk,
    [TABLE.sortKey]: { S: shardKey(joinId, shard) },
  }));
  const bySk = new Map(shards.map((shard) => [shardKey(joinId, shard), shard]));
  for (const item of await batchGet(client, table, keys)) {
    const shard = bySk.get(item[TABLE.sortKey]?.S ?? "");
    if (shard !== undefined) out.set(shard, shardOf(item));
  }
  return out;
}

export async function tallyJoin(
  client: Client,
  table: string,
  pk: AttributeValue,
  joinId: string,
  update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
  expiresAt?: number,
): Promise<JoinTally> {
  const key = { [TABLE.partitionKey]: pk, [TABLE.sortKey]: { S: tallyKey(joinId) } };
  const expression = new Expression();
  if (expiresAt !== undefined) expression.set(TABLE.ttlAttribute, { N: String(expiresAt) });
  const f = update.failures;
  // Raised only: a report counted late (a smaller count) leaves the larger one.
  const condition = f ? expression.raise(`f${f.shard}`, f.count) : undefined;
  if (update.done !== undefined) expression.add("sd", { NS: [String(update.done)] });
  try {
    const result = await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        ...expression.build(),
        ...(condition ? { ConditionExpression: condition } : {}),
        ReturnValues: "ALL_NEW",
        ...(condition ? { ReturnValuesOnConditionCheckFailure: "ALL_OLD" } : {}),
      }),
    );
    return tallyOf(result.Attributes);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // The shard's failures were already noted as high: note the rest of the update alone.
    const rest = { ...(update.done === undefined ? {} : { done: update.done }) };
    if (rest.done !== undefined) return tallyJoin(client, table, pk, joinId, rest, expiresAt);
    const item = (error as { Item?: Item }).Item;
    return item ? tallyOf(item) : tallyJoin(client, table, pk, joinId, {}, expiresAt);
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | null)?.name === "ConditionalCheckFailedException"
  );
}

function tallyOf(item: Item | undefined): JoinTally {
  let failures = 0;
  for (const [name, value] of Object.entries(item ?? {}))
    if (/^f\d+$/.test(name) && value.N !== undefined) failures += Number(value.N);
  return { shardsDone: item?.sd?.NS?.length ?? 0, failures };
}

export async function getSteps(
  client: Client,
  table: string,
  pk: AttributeValue,
  header: ExecutionHeader,
  keys: readonly { readonly thread: string; readonly step: number }[],
  stepSk: (thread: string, step: number) => string,
): Promise<ThreadRecord[]> {
  const items = await batchGet(
    client,
    table,
    keys.map(({ thread, step }) => ({
      [TABLE.partitionKey]: pk,
      [TABLE.sortKey]: { S: stepSk(thread, step) },
    })),
  );
  return items.flatMap((item) => {
    const stored = unpackRecord(item.d);
    return stored === undefined ? [] : [expandStep(stored, header)];
  });
}

/** An update expression's SET and ADD clauses with their names and values. */
class Expression {
  readonly #sets: string[] = [];
  readonly #adds: string[] = [];
  readonly #names: Record<string, string> = {};
  readonly #values: Item = {};

  #name(attribute: string): string {
    const name = `#a${Object.keys(this.#names).length}`;
    this.#names[name] = attribute;
    return name;
  }

  #value(value: AttributeValue): string {
    const name = `:v${Object.keys(this.#values).length}`;
    this.#values[name] = value;
    return name;
  }

  set(attribute: string, value: AttributeValue): void {
    this.#sets.push(`${this.#name(attribute)} = ${this.#value(value)}`);
  }

  add(attribute: string, value: AttributeValue): void {
    this.#adds.push(`${this.#name(attribute)} ${this.#value(value)}`);
  }

  /** Sets a number attribute to `to`; returns the condition that it was lower or absent. */
  raise(attribute: string, to: number): string {
    const name = this.#name(attribute);
    const value = this.#value({ N: String(to) });
    this.#sets.push(`${name} = ${value}`);
    return `attribute_not_exists(${name}) OR ${name} < ${value}`;
  }

  build(): {
    UpdateExpression: string;
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Item;
  } {
    // An update with nothing to change still answers with the item (and creates none
    // that matters): it touches a counter of no meaning.
    if (this.#sets.length === 0 && this.#adds.length === 0) {
      const n = this.#name("n");
      this.#sets.push(`${n} = if_not_exists(${n}, ${this.#value({ N: "0" })})`);
    }
    const clauses = [
      this.#sets.length > 0 ? `SET ${this.#sets.join(", ")}` : "",
      this.#adds.length > 0 ? `ADD ${this.#adds.join(", ")}` : "",
    ].filter(Boolean);
    return {
      UpdateExpression: clauses.join(" "),
      ExpressionAttributeNames: this.#names,
      ExpressionAttributeValues: this.#values,
    };
  }
}

/** Reads items by key, 100 per call, retrying what DynamoDB left unprocessed. */
async function batchGet(client: Client, table: string, keys: readonly Item[]): Promise<Item[]> {
  const out: Item[] = [];
  for (let from = 0; from < keys.length; from += BATCH_GET_KEYS) {
    let pending: Item[] = keys.slice(from, from + BATCH_GET_KEYS);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_GET_TRIES)
        throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const result = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [table]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      out.push(...(result.Responses?.[table] ?? []));
      pending = (result.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
    }
  }
  return out;
}
