/**
 * The ExecutionStore on DynamoDB: one table (see `lib/manifest` and
 * docs/data-model.md). Each record is one item whose `d` attribute holds the
 * record as JSON (cheap to marshal); `v` is its version for conditional writes.
 * Reads that decide a write are strongly consistent. No transactions.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { HistoryEvent } from "../../core/engine/index.ts";
import type {
  ExecutionHeader,
  ExecutionStore,
  ExecutionView,
  HistoryAppend,
  JoinRecord,
  ListFilter,
  Page,
  Stored,
  ThreadRecord,
} from "../../core/ports.ts";
import { DYNAMODB_MAX_BATCH_WRITE, ITEM, KEYS, TABLE } from "../../manifest/index.ts";
import type { AwsJsonClient } from "./json-client.ts";

type Item = Record<string, AttributeValue>;

const ROOT = "root";
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

/** Raised when DynamoDB keeps refusing part of a batch. */
export class DynamoDbStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DynamoDbStoreError";
  }
}

export class DynamoDbExecutionStore implements ExecutionStore {
  readonly #client: Pick<DynamoDBClient, "send">;
  readonly #table: string;

  /** @param client built once at module scope and reused. */
  /**
   * @param client the SDK client, or the lean JSON client over it (the same commands
   * and output shapes, at a fraction of the CPU per call; see json-client.ts).
   */
  constructor(client: DynamoDBClient | AwsJsonClient, tableName: string) {
    this.#client = client as Pick<DynamoDBClient, "send">;
    this.#table = tableName;
  }

  #pk(header: { tenant: string; executionId: string }): AttributeValue {
    return S(KEYS.execution(header.tenant, header.executionId));
  }

  #threadSk(threadId: string): string {
    return threadId === ROOT ? ITEM.execution : `${ITEM.threadPrefix}${threadId}`;
  }

  #threadItem(record: ThreadRecord, expiresAt?: number): Item {
    const { header, thread } = record;
    const item: Item = {
      [TABLE.partitionKey]: this.#pk(header),
      [TABLE.sortKey]: S(this.#threadSk(thread.id)),
      v: N(record.version),
      d: S(JSON.stringify(record)),
    };
    if (thread.id === ROOT) {
      const started = `${new Date(header.startedAt).toISOString()}#${header.executionId}`;
      item[TABLE.indexes.byWorkflow.partitionKey] = S(
        `${header.tenant}#${header.app}#${header.workflow}`,
      );
      item[TABLE.indexes.byWorkflow.sortKey] = S(started);
      item[TABLE.indexes.byApp.partitionKey] = S(`${header.tenant}#${header.app}`);
      item[TABLE.indexes.byApp.sortKey] = S(started);
      item.st = S(thread.status);
      item.wf = S(header.workflow);
    }
    if (expiresAt !== undefined) item[TABLE.ttlAttribute] = N(expiresAt);
    return item;
  }

  async #put(item: Item, expected: number): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ...(expected === 0
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : { ConditionExpression: "v = :v", ExpressionAttributeValues: { ":v": N(expected) } }),
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === "ConditionalCheckFailedException"
      ) {
        return false;
      }
      throw error;
    }
  }

  async #get<T>(pk: AttributeValue, sk: string): Promise<T | undefined> {
    const result = await this.#client.send(
      new GetItemCommand({
        TableName: this.#table,
        Key: { [TABLE.partitionKey]: pk, [TABLE.sortKey]: S(sk) },
        ConsistentRead: true,
      }),
    );
    const d = result.Item?.d?.S;
    return d === undefined ? undefined : (JSON.parse(d) as T);
  }

  async #query<T>(
    input: Omit<QueryCommandInput, "TableName">,
  ): Promise<{ items: T[]; last?: Item }> {
    const result = await this.#client.send(new QueryCommand({ TableName: this.#table, ...input }));
    const items = (result.Items ?? []).flatMap((item) =>
      item.d?.S === undefined ? [] : [JSON.parse(item.d.S) as T],
    );
    return result.LastEvaluatedKey ? { items, last: result.LastEvaluatedKey } : { items };
  }

  async #queryAll<T>(input: Omit<QueryCommandInput, "TableName">): Promise<T[]> {
    const out: T[] = [];
    let start: Item | undefined;
    do {
      const page = await this.#query<T>({
        ...input,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      out.push(...page.items);
      start = page.last;
    } while (start);
    return out;
  }

  async createExecution(
    record: ThreadRecord,
    expiresAt?: number,
  ): Promise<{ created: true } | { created: false; existing: ThreadRecord }> {
    if (await this.#put(this.#threadItem(record, expiresAt), 0)) return { created: true };
    const existing = await this.#get<ThreadRecord>(this.#pk(record.header), ITEM.execution);
    if (!existing)
      throw new DynamoDbStoreError(
        `execution ${record.header.executionId} exists but cannot be read`,
      );
    return { created: false, existing };
  }

  getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined> {
    return this.#get<ThreadRecord>(S(KEYS.execution(tenant, executionId)), ITEM.execution);
  }

  getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined> {
    return this.#get<ThreadRecord>(this.#pk(header), this.#threadSk(threadId));
  }

  putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean> {
    return this.#put(this.#threadItem(record, expiresAt), expected);
  }

  #prefixQuery(header: ExecutionHeader, prefix: string): Omit<QueryCommandInput, "TableName"> {
    return {
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": this.#pk(header), ":prefix": S(prefix) },
      ConsistentRead: true,
    };
  }

  joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]> {
    return this.#queryAll<ThreadRecord>(
      this.#prefixQuery(header, `${ITEM.threadPrefix}${joinId}[`),
    );
  }

  branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]> {
    return this.#queryAll<ThreadRecord>(this.#prefixQuery(header, ITEM.threadPrefix));
  }

  getJoin(header: ExecutionHeader, joinId: string): Promise<JoinRecord | undefined> {
    return this.#get<JoinRecord>(this.#pk(header), `${ITEM.joinPrefix}${joinId}`);
  }

  #joinItem(record: JoinRecord, expiresAt?: number): Item {
    return {
      [TABLE.partitionKey]: this.#pk(record.header),
      [TABLE.sortKey]: S(`${ITEM.joinPrefix}${record.join.id}`),
      v: N(record.version),
      d: S(JSON.stringify(record)),
      ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
    };
  }

  putJoin(record: JoinRecord, expected: number, expiresAt?: number): Promise<boolean> {
    return this.#put(this.#joinItem(record, expiresAt), expected);
  }

  async appendHistory(header: ExecutionHeader, events: readonly HistoryEvent[]): Promise<void> {
    await this.appendHistories([{ header, events }]);
  }

  async appendHistories(entries: readonly HistoryAppend[]): Promise<void> {
    // One item per step of a thread (its events share a time), not one per event: an
    // execution of the seed workflow writes about 8 history items instead of 31.
    let requests = entries.flatMap(({ header, events, expiresAt }) => {
      const pk = this.#pk(header);
      return groupHistory(events).map((group) => ({
        PutRequest: {
          Item: {
            [TABLE.partitionKey]: pk,
            [TABLE.sortKey]: S(historySortKey(group[0] as HistoryEvent)),
            d: S(JSON.stringify(group)),
            ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
          },
        },
      }));
    });
    for (let round = 0; requests.length > 0; round++) {
      if (round > 8)
        throw new DynamoDbStoreError(`history: ${requests.length} writes kept failing`);
      const batches: (typeof requests)[] = [];
      for (let i = 0; i < requests.length; i += DYNAMODB_MAX_BATCH_WRITE)
        batches.push(requests.slice(i, i + DYNAMODB_MAX_BATCH_WRITE));
      const results = await Promise.all(
        batches.map((batch) =>
          this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: batch } })),
        ),
      );
      requests = results.flatMap(
        (result) => (result.UnprocessedItems?.[this.#table] ?? []) as typeof requests,
      );
      if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 2 ** round * 10));
    }
  }

  async readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>> {
    // An item holds one or more events (older items: exactly one). A page may end inside
    // an item: the cursor then says which item to start after and how many events to skip.
    const pk = KEYS.execution(tenant, executionId);
    const from = cursor === undefined ? { skip: 0 } : decodeHistoryCursor(cursor);
    if (from.after && from.after[TABLE.partitionKey]?.S !== pk) {
      throw new DynamoDbStoreError("the history cursor belongs to another execution");
    }
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: {
          ":pk": S(pk),
          ":prefix": S(ITEM.historyPrefix),
        },
        Limit: limit,
        ...(from.after ? { ExclusiveStartKey: from.after } : {}),
      }),
    );
    const items: HistoryEvent[] = [];
    let after = from.after;
    let skip = from.skip;
    for (const item of result.Items ?? []) {
      const parsed = JSON.parse(item.d?.S ?? "[]") as HistoryEvent | HistoryEvent[];
      const events = (Array.isArray(parsed) ? parsed : [parsed]).slice(skip);
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
    return result.LastEvaluatedKey
      ? { items, cursor: encodeHistoryCursor({ after: result.LastEvaluatedKey, skip: 0 }) }
      : { items };
  }

  async listExecutions(
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
      const page = await this.#query<ExecutionView>({
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
      items.push(...page.items);
      start = page.last;
    } while (start && items.length < limit);
    return start ? { items, cursor: encodeCursor(start) } : { items };
  }

  async putDefinition(hash: string, name: string, source: string): Promise<void> {
    const key = S(KEYS.definition(hash));
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: { pk: key, sk: key, d: S(JSON.stringify({ name, source })) },
      }),
    );
  }

  getDefinition(hash: string): Promise<{ name: string; source: string } | undefined> {
    return this.#get(S(KEYS.definition(hash)), KEYS.definition(hash));
  }

  async bufferEvent(
    header: ExecutionHeader,
    event: string,
    id: string,
    order: string,
    payload: Stored,
    expiresAt?: number,
  ): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: {
            pk: this.#pk(header),
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

  async peekBufferedEvent(
    header: ExecutionHeader,
    event: string,
  ): Promise<{ key: string; payload: Stored } | undefined> {
    // Every waiting event of that name (few), the oldest by arrival; consumed ones are markers.
    const prefix = `${ITEM.eventPrefix}${event}#`;
    let best: { order: string; key: string; d: string } | undefined;
    let start: Item | undefined;
    do {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          FilterExpression: "attribute_not_exists(c)",
          ExpressionAttributeValues: { ":pk": this.#pk(header), ":prefix": S(prefix) },
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

  async deleteBufferedEvent(header: ExecutionHeader, event: string, key: string): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { pk: this.#pk(header), sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
        UpdateExpression: "SET c = :c REMOVE d",
        ExpressionAttributeValues: { ":c": { BOOL: true } },
      }),
    );
  }

  async noteFailure(header: ExecutionHeader, reason: string, expiresAt?: number): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: this.#pk(header),
          sk: S(ITEM.failure),
          d: S(JSON.stringify(reason)),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
      }),
    );
  }

  lastFailure(header: ExecutionHeader): Promise<string | undefined> {
    return this.#get<string>(this.#pk(header), ITEM.failure);
  }
}

/** `H#<at, 13 digits>#<thread>#<seq, 8 digits>`: time order, unique per event, idempotent on re-append. */
export function historySortKey(event: HistoryEvent): string {
  return `${ITEM.historyPrefix}${String(event.at).padStart(13, "0")}#${event.thread}#${String(event.seq).padStart(8, "0")}`;
}

/** History items above this size are split (a step's events are usually a few hundred bytes). */
export const HISTORY_ITEM_MAX_BYTES = 32 * 1024;

/** Splits events into items: consecutive events of one thread at one time, up to the size cap. */
export function groupHistory(events: readonly HistoryEvent[]): HistoryEvent[][] {
  const groups: HistoryEvent[][] = [];
  let current: HistoryEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event));
    const first = current[0];
    if (
      first &&
      (first.thread !== event.thread ||
        first.at !== event.at ||
        bytes + size > HISTORY_ITEM_MAX_BYTES)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

function encodeHistoryCursor(cursor: { after?: Item; skip: number }): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeHistoryCursor(cursor: string): { after?: Item; skip: number } {
  const value = decodeCursor(cursor) as unknown as { after?: Item; skip?: unknown };
  if (typeof value.skip === "number" && Number.isInteger(value.skip) && value.skip >= 0) {
    return { ...(value.after ? { after: value.after } : {}), skip: value.skip };
  }
  throw new DynamoDbStoreError("the history cursor is not one this store issued");
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

function decodeCursor(cursor: string): Item {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Item;
  } catch {
    // fall through to the error below
  }
  throw new DynamoDbStoreError("the cursor is not one this service issued");
}
