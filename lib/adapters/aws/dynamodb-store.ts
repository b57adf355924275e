/**
 * The ExecutionStore on DynamoDB: one table (see `lib/manifest` and
 * docs/data-model.md). Each record is one item whose `d` attribute holds the
 * record as JSON (cheap to marshal). A thread is a log of step items, each written
 * once with `attribute_not_exists`; joins carry a version `v` for conditional
 * writes. Reads that decide a write are strongly consistent. No transactions.
 *
 * Beside it: the item helpers (`dynamodb-items.ts`), cursors (`dynamodb-cursors.ts`),
 * buffered events and waiters (`dynamodb-events.ts`), history, listing and links
 * (`dynamodb-history.ts`), usage (`dynamodb-usage.ts`) and wide joins
 * (`dynamodb-wide-joins.ts`).
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type QueryCommandInput,
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
import { addUsage } from "../../core/ports.ts";
import { ITEM, KEYS, TABLE } from "../../manifest/index.ts";
import { checkStep, compactStep, expandStep, isChildOf } from "../step-log.ts";
import { cursorFaults, DynamoDbStoreError } from "./dynamodb-cursors.ts";
import {
  bufferEvent,
  bufferedEventConsumer,
  deleteBufferedEvent,
  deleteEventWaiter,
  eventWaiters,
  noteEventTaker,
  peekBufferedEvent,
  putEventWaiter,
} from "./dynamodb-events.ts";
import { links, listExecutions, putLink, readHistory, summaryItem } from "./dynamodb-history.ts";
import {
  type BinaryWire,
  type Item,
  isConditionFailure,
  N,
  packRecord,
  putRecord,
  queryItems,
  S,
  STEP_DIGITS,
  unpackRecord,
} from "./dynamodb-items.ts";
import { itemWriteUnits, usageAttribute, usageOf } from "./dynamodb-usage.ts";
import { getSteps, readShards, tallyJoin, tallyShard } from "./dynamodb-wide-joins.ts";
import { AwsJsonClient } from "./json-client.ts";

export { DynamoDbStoreError } from "./dynamodb-cursors.ts";
export { itemWriteUnits } from "./dynamodb-usage.ts";

const ROOT = "root";

export class DynamoDbExecutionStore implements ExecutionStore {
  readonly #client: Pick<DynamoDBClient, "send">;
  readonly #table: string;
  /** How this client carries the packed `d` attribute. */
  readonly #wire: BinaryWire;

  /** @param client built once at module scope and reused. */
  /**
   * @param client the SDK client, or the lean JSON client over it (the same commands
   * and output shapes, at a fraction of the CPU per call; see json-client.ts).
   */
  constructor(client: DynamoDBClient | AwsJsonClient, tableName: string) {
    this.#client = client as Pick<DynamoDBClient, "send">;
    this.#table = tableName;
    this.#wire = client instanceof AwsJsonClient ? "base64" : "bytes";
  }

  #pk(header: { tenant: string; executionId: string }): AttributeValue {
    return S(KEYS.execution(header.tenant, header.executionId));
  }

  #stepSk(threadId: string, step: number): string {
    return `${ITEM.stepPrefix}${threadId}#${String(step).padStart(STEP_DIGITS, "0")}`;
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
    return unpackRecord<T>(result.Item?.d);
  }

  async #step(
    pk: AttributeValue,
    sk: string,
    header?: ExecutionHeader,
  ): Promise<ThreadRecord | undefined> {
    const stored = await this.#get<unknown>(pk, sk);
    return stored === undefined ? undefined : expandStep(stored, header);
  }

  #query<T>(input: Omit<QueryCommandInput, "TableName">): Promise<{ items: T[]; last?: Item }> {
    return queryItems<T>(this.#client, this.#table, input);
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
    if (await this.#putNew(summaryItem(first, this.#wire, expiresAt))) return { created: true };
    const existing = await this.#step(this.#pk(record.header), ITEM.execution);
    if (!existing)
      throw new DynamoDbStoreError(
        `execution ${record.header.executionId} exists but cannot be read`,
      );
    return { created: false, existing };
  }

  async putSummary(record: ThreadRecord, expiresAt?: number): Promise<void> {
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: summaryItem(record, this.#wire, expiresAt),
      }),
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
      d: packRecord(compactStep(step as ThreadRecord), this.#wire),
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
      d: packRecord(record, this.#wire),
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
    return cursorFaults(cursor, () =>
      readHistory(this.#client, this.#table, tenant, executionId, limit, cursor),
    );
  }

  listExecutions(filter: ListFilter, limit: number, cursor?: string): Promise<Page<ExecutionView>> {
    return cursorFaults(cursor, () =>
      listExecutions(this.#client, this.#table, filter, limit, cursor),
    );
  }

  async putDefinition(hash: string, name: string, source: string): Promise<void> {
    const key = S(KEYS.definition(hash));
    await this.#client.send(
      new PutItemCommand({
        TableName: this.#table,
        Item: { pk: key, sk: key, d: packRecord({ name, source }, this.#wire) },
      }),
    );
  }

  getDefinition(hash: string): Promise<{ name: string; source: string } | undefined> {
    return this.#get(S(KEYS.definition(hash)), KEYS.definition(hash));
  }

  bufferEvent(
    header: ExecutionHeader,
    event: string,
    id: string,
    order: string,
    payload: Stored,
    expiresAt?: number,
  ): Promise<boolean> {
    return bufferEvent(
      this.#client,
      this.#table,
      this.#pk(header),
      event,
      id,
      order,
      payload,
      expiresAt,
    );
  }

  peekBufferedEvent(
    header: ExecutionHeader,
    event: string,
  ): Promise<{ key: string; payload: Stored } | undefined> {
    return peekBufferedEvent(this.#client, this.#table, this.#pk(header), event);
  }

  bufferedEventConsumer(
    header: ExecutionHeader,
    event: string,
    key: string,
  ): Promise<{ consumedBy?: string; takers?: readonly string[] } | undefined> {
    return bufferedEventConsumer(this.#client, this.#table, this.#pk(header), event, key);
  }

  noteEventTaker(
    header: ExecutionHeader,
    event: string,
    key: string,
    thread: string,
  ): Promise<void> {
    return noteEventTaker(this.#client, this.#table, this.#pk(header), event, key, thread);
  }

  deleteBufferedEvent(
    header: ExecutionHeader,
    event: string,
    key: string,
    consumedBy?: string,
  ): Promise<void> {
    return deleteBufferedEvent(this.#client, this.#table, this.#pk(header), event, key, consumedBy);
  }

  putEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
    expiresAt?: number,
  ): Promise<void> {
    return putEventWaiter(
      this.#client,
      this.#table,
      this.#pk(header),
      event,
      thread,
      version,
      expiresAt,
    );
  }

  deleteEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
  ): Promise<void> {
    return deleteEventWaiter(this.#client, this.#table, this.#pk(header), event, thread, version);
  }

  eventWaiters(
    header: ExecutionHeader,
    event: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<EventWaiter>> {
    return eventWaiters(this.#client, this.#table, this.#pk(header), event, limit, cursor);
  }

  requestCancel(header: ExecutionHeader, reason: string, expiresAt?: number): Promise<void> {
    return putRecord(this.#client, this.#table, this.#pk(header), ITEM.cancel, reason, expiresAt);
  }

  cancelRequested(header: ExecutionHeader): Promise<string | undefined> {
    return this.#get<string>(this.#pk(header), ITEM.cancel);
  }

  noteFailure(header: ExecutionHeader, note: FailureNote, expiresAt?: number): Promise<void> {
    return putRecord(this.#client, this.#table, this.#pk(header), ITEM.failure, note, expiresAt);
  }

  lastFailure(header: ExecutionHeader): Promise<FailureNote | undefined> {
    return this.#get<FailureNote>(this.#pk(header), ITEM.failure);
  }

  putLink(
    owner: ExecutionOwner,
    link: { kind: "redriveOf" | "redrive"; executionId: string; at: number },
    expiresAt?: number,
  ): Promise<void> {
    return putLink(this.#client, this.#table, this.#pk(owner), link, expiresAt);
  }

  links(owner: ExecutionOwner): Promise<ExecutionLinks> {
    return links(this.#client, this.#table, this.#pk(owner));
  }

  usageOf(owner: ExecutionOwner, maxItems: number): Promise<{ usage: Usage; complete: boolean }> {
    return usageOf(this.#client, this.#table, this.#pk(owner), maxItems);
  }
}
