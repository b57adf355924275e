/**
 * The ExecutionStore on DynamoDB: one table (see `lib/manifest` and
 * docs/data-model.md). Each record is one item whose `d` attribute holds the
 * record as JSON (cheap to marshal). A thread is a log of step items, each written
 * once with `attribute_not_exists`; joins carry a version `v` for conditional
 * writes. Reads that decide a write are strongly consistent. No transactions.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { HistoryEvent } from "../../core/engine/index.ts";
import type {
  EventWaiter,
  ExecutionHeader,
  ExecutionLinks,
  ExecutionOwner,
  ExecutionStore,
  ExecutionView,
  FailureNote,
  JoinRecord,
  JoinTally,
  ListFilter,
  Page,
  ShardTally,
  Stored,
  ThreadRecord,
  Usage,
} from "../../core/ports.ts";
import { addUsage, NO_USAGE, StoreError } from "../../core/ports.ts";
import { ITEM, KEYS, TABLE } from "../../manifest/index.ts";
import { checkStep, compactStep, expandStep, isChildOf } from "../step-log.ts";
import {
  DynamoDbStoreError,
  decodeCursor,
  decodeHistoryCursor,
  encodeCursor,
  encodeHistoryCursor,
} from "./dynamodb-cursors.ts";
import { getSteps, readShards, tallyJoin, tallyShard } from "./dynamodb-wide-joins.ts";
import type { AwsJsonClient } from "./json-client.ts";

type Item = Record<string, AttributeValue>;

export { DynamoDbStoreError } from "./dynamodb-cursors.ts";

const ROOT = "root";
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

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

  #stepSk(threadId: string, step: number): string {
    return `${ITEM.stepPrefix}${threadId}#${String(step).padStart(STEP_DIGITS, "0")}`;
  }

  #summaryItem(full: ThreadRecord, expiresAt?: number): Item {
    const { usage, ...record } = full;
    const { header, thread } = record;
    const started = `${new Date(header.startedAt).toISOString()}#${header.executionId}`;
    const item: Item = {
      [TABLE.partitionKey]: this.#pk(header),
      [TABLE.sortKey]: S(ITEM.execution),
      d: S(JSON.stringify(compactStep(record, true))),
      ...usageAttribute(usage),
      [TABLE.indexes.byWorkflow.partitionKey]: S(
        `${header.tenant}#${header.app}#${header.workflow}`,
      ),
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

  async #putNew(item: Item): Promise<boolean> {
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async #put(item: Item, expected: number): Promise<boolean> {
    if (expected === 0) return this.#putNew(item);
    try {
      await this.#client.send(
        new PutItemCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: "v = :v",
          ExpressionAttributeValues: { ":v": N(expected) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
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

  async #step(
    pk: AttributeValue,
    sk: string,
    header?: ExecutionHeader,
  ): Promise<ThreadRecord | undefined> {
    const stored = await this.#get<unknown>(pk, sk);
    return stored === undefined ? undefined : expandStep(stored, header);
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
    // The summary at start holds step 1, whose usage step 1 records: it records none.
    const { usage: _usage, ...first } = record;
    if (await this.#putNew(this.#summaryItem(first, expiresAt))) return { created: true };
    const existing = await this.#step(this.#pk(record.header), ITEM.execution);
    if (!existing)
      throw new DynamoDbStoreError(
        `execution ${record.header.executionId} exists but cannot be read`,
      );
    return { created: false, existing };
  }

  async putSummary(record: ThreadRecord, expiresAt?: number): Promise<void> {
    await this.#client.send(
      new PutItemCommand({ TableName: this.#table, Item: this.#summaryItem(record, expiresAt) }),
    );
  }

  getSummary(tenant: string, executionId: string): Promise<ThreadRecord | undefined> {
    return this.#step(S(KEYS.execution(tenant, executionId)), ITEM.execution);
  }

  async getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined> {
    const [latest] = await this.#latest({ tenant, executionId }, ROOT, 1);
    return latest ?? this.getSummary(tenant, executionId);
  }

  #latest(
    header: ExecutionHeader | { tenant: string; executionId: string },
    threadId: string,
    limit: number,
  ): Promise<ThreadRecord[]> {
    return this.#query<unknown>({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: {
        ":pk": this.#pk(header),
        ":prefix": S(`${ITEM.stepPrefix}${threadId}#`),
      },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    }).then((page) =>
      page.items.map((item) => expandStep(item, "app" in header ? header : undefined)),
    );
  }

  async getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined> {
    const [latest] = await this.#latest(header, threadId, 1);
    return latest;
  }

  recentSteps(header: ExecutionHeader, threadId: string, limit: number): Promise<ThreadRecord[]> {
    return this.#latest(header, threadId, limit);
  }

  stateAt(
    header: ExecutionHeader,
    threadId: string,
    step: number,
  ): Promise<ThreadRecord | undefined> {
    return this.#step(this.#pk(header), this.#stepSk(threadId, step), header);
  }

  putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean> {
    checkStep(record, expected);
    const { usage, ...step } = record;
    const item: Item = {
      [TABLE.partitionKey]: this.#pk(record.header),
      [TABLE.sortKey]: S(this.#stepSk(record.thread.id, record.version)),
      d: S(JSON.stringify(compactStep(step as ThreadRecord))),
      ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
    };
    // The step's own write is part of what it cost: its units, from its size with `u`.
    if (usage) {
      const own = itemWriteUnits({ ...item, ...usageAttribute(usage) });
      Object.assign(item, usageAttribute(addUsage(usage, { wcu: own })));
    }
    return this.#putNew(item);
  }

  /** The latest step of each thread whose id starts with `prefix` (all of their steps are read). */
  async #latestOfThreads(header: ExecutionHeader, prefix: string): Promise<ThreadRecord[]> {
    const stored = await this.#queryAll<unknown>({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: {
        ":pk": this.#pk(header),
        ":prefix": S(`${ITEM.stepPrefix}${prefix}`),
      },
      ConsistentRead: true,
    });
    const latest = new Map<string, unknown>();
    for (const step of stored) latest.set((step as ThreadRecord).thread.id, step);
    return [...latest.values()].map((step) => expandStep(step, header));
  }

  async joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]> {
    return (await this.#latestOfThreads(header, `${joinId}[`)).filter((r) =>
      isChildOf(r.thread.id, joinId),
    );
  }

  async branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]> {
    return (await this.#latestOfThreads(header, "")).filter((r) => r.thread.id !== ROOT);
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

  tallyShard(
    header: ExecutionHeader,
    joinId: string,
    shard: number,
    add: ShardTally,
    expiresAt?: number,
  ): Promise<{ before: ShardTally; after: ShardTally }> {
    return tallyShard(this.#client, this.#table, this.#pk(header), joinId, shard, add, expiresAt);
  }

  readShards(
    header: ExecutionHeader,
    joinId: string,
    shards: readonly number[],
  ): Promise<Map<number, ShardTally>> {
    return readShards(this.#client, this.#table, this.#pk(header), joinId, shards);
  }

  tallyJoin(
    header: ExecutionHeader,
    joinId: string,
    update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
    expiresAt?: number,
  ): Promise<JoinTally> {
    return tallyJoin(this.#client, this.#table, this.#pk(header), joinId, update, expiresAt);
  }

  getSteps(
    header: ExecutionHeader,
    keys: readonly { readonly thread: string; readonly step: number }[],
  ): Promise<ThreadRecord[]> {
    return getSteps(this.#client, this.#table, this.#pk(header), header, keys, (thread, step) =>
      this.#stepSk(thread, step),
    );
  }

  readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>> {
    return cursorFaults(cursor, () => this.#readHistory(tenant, executionId, limit, cursor));
  }

  async #readHistory(
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
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
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

  listExecutions(filter: ListFilter, limit: number, cursor?: string): Promise<Page<ExecutionView>> {
    return cursorFaults(cursor, () => this.#listExecutions(filter, limit, cursor));
  }

  async #listExecutions(
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
      const page = await this.#query<unknown>({
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

  async bufferedEventConsumer(
    header: ExecutionHeader,
    event: string,
    key: string,
  ): Promise<{ consumedBy?: string; takers?: readonly string[] } | undefined> {
    const result = await this.#client.send(
      new GetItemCommand({
        TableName: this.#table,
        Key: { pk: this.#pk(header), sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
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

  async noteEventTaker(
    header: ExecutionHeader,
    event: string,
    key: string,
    thread: string,
  ): Promise<void> {
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#table,
          Key: { pk: this.#pk(header), sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
          UpdateExpression: "ADD tk :t",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":t": { SS: [thread] } },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async deleteBufferedEvent(
    header: ExecutionHeader,
    event: string,
    key: string,
    consumedBy?: string,
  ): Promise<void> {
    await this.#client.send(
      new UpdateItemCommand({
        TableName: this.#table,
        Key: { pk: this.#pk(header), sk: S(`${ITEM.eventPrefix}${event}#${key}`) },
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

  #waiterSk(event: string, thread: string, version: number): AttributeValue {
    return S(
      `${ITEM.waiterPrefix}${event}#${thread}#${String(version).padStart(STEP_DIGITS, "0")}`,
    );
  }

  async putEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
    expiresAt?: number,
  ): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: this.#pk(header),
          sk: this.#waiterSk(event, thread, version),
          d: S(JSON.stringify({ thread, version })),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
      }),
    );
  }

  async deleteEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
  ): Promise<void> {
    await this.#client.send(
      new DeleteItemCommand({
        TableName: this.#table,
        Key: { pk: this.#pk(header), sk: this.#waiterSk(event, thread, version) },
      }),
    );
  }

  eventWaiters(
    header: ExecutionHeader,
    event: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<EventWaiter>> {
    return cursorFaults(cursor, async () => {
      const start = cursor === undefined ? undefined : decodeCursor(cursor);
      if (start && start[TABLE.partitionKey]?.S !== this.#pk(header).S)
        throw new StoreError("INVALID_CURSOR", "the cursor belongs to another execution");
      const page = await this.#query<EventWaiter>({
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: {
          ":pk": this.#pk(header),
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

  async requestCancel(header: ExecutionHeader, reason: string, expiresAt?: number): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: this.#pk(header),
          sk: S(ITEM.cancel),
          d: S(JSON.stringify(reason)),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
      }),
    );
  }

  cancelRequested(header: ExecutionHeader): Promise<string | undefined> {
    return this.#get<string>(this.#pk(header), ITEM.cancel);
  }

  async noteFailure(header: ExecutionHeader, note: FailureNote, expiresAt?: number): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: this.#pk(header),
          sk: S(ITEM.failure),
          d: S(JSON.stringify(note)),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
      }),
    );
  }

  lastFailure(header: ExecutionHeader): Promise<FailureNote | undefined> {
    return this.#get<FailureNote>(this.#pk(header), ITEM.failure);
  }

  async putLink(
    owner: ExecutionOwner,
    link: { kind: "redriveOf" | "redrive"; executionId: string; at: number },
    expiresAt?: number,
  ): Promise<void> {
    const sk =
      link.kind === "redriveOf"
        ? ITEM.redriveOf
        : `${ITEM.redrivePrefix}${String(link.at).padStart(13, "0")}#${link.executionId}`;
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: {
          pk: this.#pk(owner),
          sk: S(sk),
          d: S(JSON.stringify({ id: link.executionId, at: link.at })),
          ...(expiresAt === undefined ? {} : { [TABLE.ttlAttribute]: N(expiresAt) }),
        },
      }),
    );
  }

  async links(owner: ExecutionOwner): Promise<ExecutionLinks> {
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": this.#pk(owner), ":prefix": S("L#") },
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

  async usageOf(
    owner: ExecutionOwner,
    maxItems: number,
  ): Promise<{ usage: Usage; complete: boolean }> {
    let total = NO_USAGE;
    let start: Item | undefined;
    let read = 0;
    do {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": this.#pk(owner) },
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
}

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
function usageAttribute(usage: Usage | undefined): Item {
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

/** Steps are numbered with this many digits in their sort key (lexical order is step order). */
const STEP_DIGITS = 10;
/** Step items read per history query (a step is usually a few hundred bytes). */
const HISTORY_QUERY_ITEMS = 200;

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error).name === "ConditionalCheckFailedException"
  );
}

/** DynamoDB refuses a start key outside the query's partition: a cursor it did not issue. */
async function cursorFaults<T>(cursor: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (cursor !== undefined && (error as { name?: unknown }).name === "ValidationException")
      throw new StoreError("INVALID_CURSOR", "the cursor is not one this store issued", {
        cause: error,
      });
    throw error;
  }
}
