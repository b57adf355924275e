/**
 * An execution's history pages; the listing of executions, with the summary item its
 * indexes list; and an execution's links (redrive).
 */
import { type AttributeValue, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import type { HistoryEvent } from "../../core/engine/index.ts";
import {
  addUsage,
  type ExecutionLinks,
  type ExecutionView,
  type ListFilter,
  type Page,
  StoreError,
  type ThreadRecord,
} from "../../core/ports.ts";
import { ITEM, KEYS, TABLE } from "../../manifest/index.ts";
import { compactStep, expandStep } from "../step-log.ts";
import {
  decodeCursor,
  decodeHistoryCursor,
  encodeCursor,
  encodeHistoryCursor,
} from "./dynamodb-cursors.ts";
import { type Client, type Item, N, queryItems, S } from "./dynamodb-items.ts";
import { itemWriteUnits, usageAttribute } from "./dynamodb-usage.ts";

/** Step items read per history query (a step is usually a few hundred bytes). */
const HISTORY_QUERY_ITEMS = 200;

export async function readHistory(
  client: Client,
  table: string,
  tenant: string,
  executionId: string,
  limit: number,
  cursor?: string,
): Promise<Page<HistoryEvent>> {
  // Each step item holds its events. A page may end inside an item: the cursor then
  // says which item to start after and how many of the next one's events to skip.
  const pk = KEYS.execution(tenant, executionId);
  const from = cursor === undefined ? { skip: 0 } : decodeHistoryCursor(cursor);
  if (from.after && from.after[TABLE.partitionKey]?.S !== pk) {
    throw new StoreError("INVALID_CURSOR", "the history cursor belongs to another execution");
  }
  const items: HistoryEvent[] = [];
  let after = from.after;
  let skip = from.skip;
  for (;;) {
    const result = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": S(pk), ":prefix": S(ITEM.stepPrefix) },
        Limit: Math.min(limit, HISTORY_QUERY_ITEMS),
        ...(after ? { ExclusiveStartKey: after } : {}),
      }),
    );
    for (const item of result.Items ?? []) {
      const record = expandStep(JSON.parse(item.d?.S ?? "{}"));
      const events = (record.events ?? []).slice(skip);
      const room = limit - items.length;
      if (events.length > room) {
        items.push(...events.slice(0, room));
        return {
          items,
          cursor: encodeHistoryCursor({ ...(after ? { after } : {}), skip: skip + room }),
        };
      }
      items.push(...events);
      after = {
        [TABLE.partitionKey]: item[TABLE.partitionKey],
        [TABLE.sortKey]: item[TABLE.sortKey],
      } as Item;
      skip = 0;
    }
    if (!result.LastEvaluatedKey) return { items };
    after = result.LastEvaluatedKey;
    if (items.length >= limit) return { items, cursor: encodeHistoryCursor({ after, skip: 0 }) };
  }
}

/** The execution's summary item: its record, status and the listing indexes' keys. */
export function summaryItem(full: ThreadRecord, expiresAt?: number): Item {
  const { usage, ...record } = full;
  const { header, thread } = record;
  const started = `${new Date(header.startedAt).toISOString()}#${header.executionId}`;
  const item: Item = {
    [TABLE.partitionKey]: S(KEYS.execution(header.tenant, header.executionId)),
    [TABLE.sortKey]: S(ITEM.execution),
    d: S(JSON.stringify(compactStep(record, true))),
    ...usageAttribute(usage),
    [TABLE.indexes.byWorkflow.partitionKey]: S(`${header.tenant}#${header.app}#${header.workflow}`),
    [TABLE.indexes.byWorkflow.sortKey]: S(started),
    [TABLE.indexes.byApp.partitionKey]: S(`${header.tenant}#${header.app}`),
    [TABLE.indexes.byApp.sortKey]: S(started),
    st: S(thread.status),
    wf: S(header.workflow),
  };
  if (expiresAt !== undefined) item[TABLE.ttlAttribute] = N(expiresAt);
  if (usage) Object.assign(item, usageAttribute(addUsage(usage, { wcu: itemWriteUnits(item) })));
  return item;
}

export async function listExecutions(
  client: Client,
  table: string,
  filter: ListFilter,
  limit: number,
  cursor?: string,
): Promise<Page<ExecutionView>> {
  const index = filter.workflow === undefined ? TABLE.indexes.byApp : TABLE.indexes.byWorkflow;
  const key =
    filter.workflow === undefined
      ? `${filter.tenant}#${filter.app}`
      : `${filter.tenant}#${filter.app}#${filter.workflow}`;
  // A status filter reads past non-matching items; keep paging until the page is full.
  const items: ExecutionView[] = [];
  let start = cursor ? decodeCursor(cursor) : undefined;
  do {
    const page = await queryItems<unknown>(client, table, {
      IndexName: index.name,
      KeyConditionExpression: `${index.partitionKey} = :pk`,
      ExpressionAttributeValues: {
        ":pk": S(key),
        ...(filter.status === undefined ? {} : { ":st": S(filter.status) }),
      },
      ...(filter.status === undefined ? {} : { FilterExpression: "st = :st" }),
      ScanIndexForward: false,
      Limit: limit - items.length,
      ...(start ? { ExclusiveStartKey: start } : {}),
    });
    items.push(...page.items.map((item) => expandStep(item)));
    start = page.last;
  } while (start && items.length < limit);
  return start ? { items, cursor: encodeCursor(start) } : { items };
}

export async function putLink(
  client: Client,
  table: string,
  pk: AttributeValue,
  link: { kind: "redriveOf" | "redrive"; executionId: string; at: number },
  expiresAt?: number,
): Promise<void> {
  const sk =
    link.kind === "redriveOf"
      ? ITEM.redriveOf
      : `${ITEM.redrivePrefix}${String(link.at).padStart(13, "0")}#${link.executionId}`;
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        pk,
        sk: S(sk),
        d: S(JSON.stringify({ id: link.executionId, at: link.at })),
        ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
      },
    }),
  );
}

export async function links(
  client: Client,
  table: string,
  pk: AttributeValue,
): Promise<ExecutionLinks> {
  const result = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": pk, ":prefix": S("L#") },
    }),
  );
  let of: { id: string; at: number } | undefined;
  const redrives: string[] = [];
  for (const item of result.Items ?? []) {
    const link = JSON.parse(item.d?.S ?? "null") as { id: string; at: number } | null;
    if (link === null) continue;
    if (item.sk?.S === ITEM.redriveOf) of = link;
    else redrives.push(link.id);
  }
  return of === undefined ? { redrives } : { redriveOf: of.id, redrivenAt: of.at, redrives };
}
