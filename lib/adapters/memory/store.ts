/**
 * An in-memory ExecutionStore for seeded simulations of the runtime. It keeps
 * the same contract as the DynamoDB adapter (the contract suite runs on both),
 * including conditional writes, and copies values in and out so callers can
 * never share mutable state with it.
 */
import type { HistoryEvent } from "../../core/engine/index.ts";
import {
  addUsage,
  type EventWaiter,
  type ExecutionHeader,
  type ExecutionLinks,
  type ExecutionOwner,
  type ExecutionStore,
  type ExecutionView,
  type FailureNote,
  type JoinRecord,
  type JoinTally,
  type ListFilter,
  NO_USAGE,
  type Page,
  type ShardTally,
  type Stored,
  StoreError,
  type ThreadRecord,
  type Usage,
} from "../../core/ports.ts";

import { checkStep, compactStep, isChildOf } from "../step-log.ts";
import { assertItemWithinLimits, dynamoItemBytes } from "./limits.ts";
import { readShards, tallyJoin, tallyShard } from "./wide-joins.ts";

const ROOT = "root";
const isStep = (record: unknown): record is ThreadRecord =>
  typeof record === "object" && record !== null && "thread" in record && "outbox" in record;
const clone = <T>(value: T): T => structuredClone(value);

export class MemoryExecutionStore implements ExecutionStore {
  /** Every thread's log: key (tenant, execution, thread) to its steps, step N at index N-1. */
  readonly logs = new Map<string, ThreadRecord[]>();
  readonly summaries = new Map<string, ThreadRecord>();
  readonly joins = new Map<string, JoinRecord>();
  /** Wide joins' shards (key of the join + `#s<k>`) and tallies (`#t`). */
  readonly shards = new Map<string, { ok: Map<number, number>; bad: Map<number, number> }>();
  readonly tallies = new Map<string, { done: Set<number>; failures: Map<number, number> }>();
  readonly definitions = new Map<string, { name: string; source: string }>();
  readonly buffered = new Map<
    string,
    {
      id: string;
      order: string;
      payload: Stored;
      consumed: boolean;
      consumedBy?: string;
      takers?: string[];
    }[]
  >();
  /** Waiter entries by (tenant, execution, event): `<thread>#<step>` to the entry. */
  readonly waiters = new Map<string, Map<string, EventWaiter>>();
  readonly failures = new Map<string, FailureNote>();
  readonly cancels = new Map<string, string>();
  readonly expiries = new Map<string, number>();
  /** Counts calls, for tests and benchmarks; `endings` counts root writes that ended an execution. */
  readonly calls = { reads: 0, writes: 0, queries: 0, endings: 0, largestItemBytes: 0 };

  /** Refuses what DynamoDB would (the adapter keeps a record as one JSON attribute `d`). */
  #measure(record: unknown): void {
    const stored = isStep(record) ? compactStep(record) : record;
    const item = { pk: "X#", sk: "S#", d: JSON.stringify(stored) };
    assertItemWithinLimits(item);
    this.calls.largestItemBytes = Math.max(this.calls.largestItemBytes, dynamoItemBytes(item));
  }

  #key(tenant: string, executionId: string, id: string): string {
    return `${tenant}\u0000${executionId}\u0000${id}`;
  }

  #log(header: { tenant: string; executionId: string }, threadId: string): ThreadRecord[] {
    return this.logs.get(this.#key(header.tenant, header.executionId, threadId)) ?? [];
  }

  async createExecution(
    record: ThreadRecord,
    expiresAt?: number,
  ): Promise<{ created: true } | { created: false; existing: ThreadRecord }> {
    const key = this.#key(record.header.tenant, record.header.executionId, ROOT);
    this.calls.writes++;
    const existing = this.summaries.get(key);
    if (existing) return { created: false, existing: clone(existing) };
    this.#measure(record);
    const { usage: _usage, ...first } = record;
    this.summaries.set(key, clone(first));
    if (expiresAt !== undefined) this.expiries.set(`summary\u0000${key}`, expiresAt);
    return { created: true };
  }

  async putSummary(record: ThreadRecord, expiresAt?: number): Promise<void> {
    const key = this.#key(record.header.tenant, record.header.executionId, ROOT);
    this.calls.writes++;
    this.#measure(record);
    this.summaries.set(key, clone(record));
    if (expiresAt !== undefined) this.expiries.set(`summary\u0000${key}`, expiresAt);
  }

  async getSummary(tenant: string, executionId: string): Promise<ThreadRecord | undefined> {
    this.calls.reads++;
    const record = this.summaries.get(this.#key(tenant, executionId, ROOT));
    return record ? clone(record) : undefined;
  }

  async getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined> {
    this.calls.queries++;
    const latest = this.#log({ tenant, executionId }, ROOT).at(-1);
    const record = latest ?? this.summaries.get(this.#key(tenant, executionId, ROOT));
    return record ? clone(record) : undefined;
  }

  async getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined> {
    this.calls.queries++;
    const record = this.#log(header, threadId).at(-1);
    return record ? clone(record) : undefined;
  }

  async recentSteps(
    header: ExecutionHeader,
    threadId: string,
    limit: number,
  ): Promise<ThreadRecord[]> {
    this.calls.queries++;
    return this.#log(header, threadId).slice(-limit).reverse().map(clone);
  }

  async stateAt(
    header: ExecutionHeader,
    threadId: string,
    step: number,
  ): Promise<ThreadRecord | undefined> {
    this.calls.reads++;
    const record = step >= 1 ? this.#log(header, threadId)[step - 1] : undefined;
    return record ? clone(record) : undefined;
  }

  async putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean> {
    checkStep(record, expected);
    this.calls.writes++;
    const key = this.#key(record.header.tenant, record.header.executionId, record.thread.id);
    const log = this.logs.get(key) ?? [];
    if (log.length !== expected) return false;
    this.#measure(record);
    const previous = log.at(-1);
    if (
      record.thread.id === ROOT &&
      record.thread.status !== "running" &&
      (previous === undefined || previous.thread.status === "running")
    ) {
      this.calls.endings++;
    }
    log.push(clone(record));
    this.logs.set(key, log);
    if (expiresAt !== undefined) this.expiries.set(`${key}\u0000${record.version}`, expiresAt);
    return true;
  }

  async joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]> {
    return this.#latestWithPrefix(header, `${joinId}[`).filter((r) =>
      isChildOf(r.thread.id, joinId),
    );
  }

  async branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]> {
    return this.#latestWithPrefix(header, "").filter((r) => r.thread.id !== ROOT);
  }

  #latestWithPrefix(header: ExecutionHeader, prefix: string): ThreadRecord[] {
    this.calls.queries++;
    const start = this.#key(header.tenant, header.executionId, prefix);
    return [...this.logs.entries()]
      .filter(([key, log]) => key.startsWith(start) && log.length > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, log]) => clone(log.at(-1) as ThreadRecord));
  }

  async getJoin(header: ExecutionHeader, joinId: string): Promise<JoinRecord | undefined> {
    this.calls.reads++;
    const record = this.joins.get(this.#key(header.tenant, header.executionId, joinId));
    return record ? clone(record) : undefined;
  }

  async putJoin(record: JoinRecord, expected: number, expiresAt?: number): Promise<boolean> {
    this.calls.writes++;
    const key = this.#key(record.header.tenant, record.header.executionId, record.join.id);
    if ((this.joins.get(key)?.version ?? 0) !== expected) return false;
    this.#measure(record);
    this.joins.set(key, clone(record));
    if (expiresAt !== undefined) this.expiries.set(key, expiresAt);
    return true;
  }

  tallyShard(
    header: ExecutionHeader,
    joinId: string,
    shard: number,
    add: ShardTally,
    expiresAt?: number,
  ): Promise<{ before: ShardTally; after: ShardTally }> {
    return tallyShard(
      this,
      this.#key(header.tenant, header.executionId, joinId),
      shard,
      add,
      (record) => this.#measure(record),
      expiresAt,
    );
  }

  readShards(
    header: ExecutionHeader,
    joinId: string,
    shards: readonly number[],
  ): Promise<Map<number, ShardTally>> {
    return readShards(this, this.#key(header.tenant, header.executionId, joinId), shards);
  }

  tallyJoin(
    header: ExecutionHeader,
    joinId: string,
    update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
    expiresAt?: number,
  ): Promise<JoinTally> {
    return tallyJoin(this, this.#key(header.tenant, header.executionId, joinId), update, expiresAt);
  }

  async getSteps(
    header: ExecutionHeader,
    keys: readonly { readonly thread: string; readonly step: number }[],
  ): Promise<ThreadRecord[]> {
    const out: ThreadRecord[] = [];
    for (const { thread, step } of keys) {
      this.calls.reads++;
      const record = step >= 1 ? this.#log(header, thread)[step - 1] : undefined;
      if (record) out.push(clone(record));
    }
    return out;
  }

  async readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>> {
    this.calls.queries++;
    // The DynamoDB adapter's order: threads by id (the root first), then steps.
    const prefix = this.#key(tenant, executionId, "");
    const list = [...this.logs.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, log]) => ({ thread: key.slice(prefix.length), log }))
      .sort((a, b) => (stepKey(a.thread) < stepKey(b.thread) ? -1 : 1))
      .flatMap(({ log }) => log.flatMap((record) => record.events));
    const start = cursor === undefined ? 0 : Number(cursor);
    const items = list.slice(start, start + limit).map(clone);
    const next = start + items.length;
    return next < list.length ? { items, cursor: String(next) } : { items };
  }

  async listExecutions(
    filter: ListFilter,
    limit: number,
    cursor?: string,
  ): Promise<Page<ExecutionView>> {
    this.calls.queries++;
    const all = [...this.summaries.values()]
      .filter((r) => r.header.tenant === filter.tenant && r.header.app === filter.app)
      .filter((r) => filter.workflow === undefined || r.header.workflow === filter.workflow)
      .filter((r) => filter.status === undefined || r.thread.status === filter.status)
      .sort(
        (a, b) =>
          b.header.startedAt - a.header.startedAt ||
          (a.header.executionId < b.header.executionId ? 1 : -1),
      );
    const start = cursor === undefined ? 0 : Number(cursor);
    const items = all.slice(start, start + limit).map(clone);
    const next = start + items.length;
    return next < all.length ? { items, cursor: String(next) } : { items };
  }

  async putDefinition(hash: string, name: string, source: string): Promise<void> {
    this.calls.writes++;
    this.definitions.set(hash, { name, source });
  }

  async getDefinition(hash: string): Promise<{ name: string; source: string } | undefined> {
    this.calls.reads++;
    return this.definitions.get(hash);
  }

  async bufferEvent(
    header: ExecutionHeader,
    event: string,
    id: string,
    order: string,
    payload: Stored,
  ): Promise<boolean> {
    this.calls.writes++;
    const key = this.#key(header.tenant, header.executionId, event);
    const list = this.buffered.get(key) ?? [];
    if (list.some((e) => e.id === id)) return false;
    list.push({ id, order, payload: clone(payload), consumed: false });
    list.sort((a, b) => (a.order < b.order ? -1 : 1));
    this.buffered.set(key, list);
    return true;
  }

  async peekBufferedEvent(
    header: ExecutionHeader,
    event: string,
  ): Promise<{ key: string; payload: Stored } | undefined> {
    this.calls.queries++;
    const first = this.buffered
      .get(this.#key(header.tenant, header.executionId, event))
      ?.find((e) => !e.consumed);
    return first ? { key: first.id, payload: clone(first.payload) } : undefined;
  }

  async bufferedEventConsumer(
    header: ExecutionHeader,
    event: string,
    key: string,
  ): Promise<{ consumedBy?: string; takers?: readonly string[] } | undefined> {
    this.calls.reads++;
    const entry = this.buffered
      .get(this.#key(header.tenant, header.executionId, event))
      ?.find((e) => e.id === key);
    if (!entry) return undefined;
    return {
      ...(entry.consumedBy === undefined ? {} : { consumedBy: entry.consumedBy }),
      ...(entry.takers?.length ? { takers: [...entry.takers].sort() } : {}),
    };
  }

  async noteEventTaker(
    header: ExecutionHeader,
    event: string,
    key: string,
    thread: string,
  ): Promise<void> {
    this.calls.writes++;
    const entry = this.buffered
      .get(this.#key(header.tenant, header.executionId, event))
      ?.find((e) => e.id === key);
    if (!entry) return;
    entry.takers = [...new Set([...(entry.takers ?? []), thread])];
  }

  async deleteBufferedEvent(
    header: ExecutionHeader,
    event: string,
    key: string,
    consumedBy?: string,
  ): Promise<void> {
    this.calls.writes++;
    const list = this.buffered.get(this.#key(header.tenant, header.executionId, event)) ?? [];
    const entry = list.find((e) => e.id === key);
    const by = consumedBy === undefined ? {} : { consumedBy };
    if (entry) Object.assign(entry, { consumed: true, payload: { inline: null }, ...by });
    else list.push({ id: key, order: "", payload: { inline: null }, consumed: true, ...by });
    this.buffered.set(this.#key(header.tenant, header.executionId, event), list);
  }

  async putEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
    expiresAt?: number,
  ): Promise<void> {
    this.calls.writes++;
    const key = this.#key(header.tenant, header.executionId, event);
    const entries = this.waiters.get(key) ?? new Map<string, EventWaiter>();
    const sk = waiterKey(thread, version);
    entries.set(sk, { thread, version });
    this.waiters.set(key, entries);
    if (expiresAt !== undefined) this.expiries.set(`waiter\u0000${key}\u0000${sk}`, expiresAt);
  }

  async deleteEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
  ): Promise<void> {
    this.calls.writes++;
    this.waiters
      .get(this.#key(header.tenant, header.executionId, event))
      ?.delete(waiterKey(thread, version));
  }

  async eventWaiters(
    header: ExecutionHeader,
    event: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<EventWaiter>> {
    this.calls.queries++;
    const entries = this.waiters.get(this.#key(header.tenant, header.executionId, event));
    const all = [...(entries?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
    const from = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(from) || from < 0)
      throw new StoreError("INVALID_CURSOR", "the cursor is not one this store issued");
    const items = all.slice(from, from + limit).map(([, w]) => ({ ...w }));
    const next = from + items.length;
    return next < all.length ? { items, cursor: String(next) } : { items };
  }

  async requestCancel(header: ExecutionHeader, reason: string): Promise<void> {
    this.calls.writes++;
    this.cancels.set(this.#key(header.tenant, header.executionId, ""), reason);
  }

  async cancelRequested(header: ExecutionHeader): Promise<string | undefined> {
    this.calls.reads++;
    return this.cancels.get(this.#key(header.tenant, header.executionId, ""));
  }

  async noteFailure(header: ExecutionHeader, note: FailureNote): Promise<void> {
    this.failures.set(this.#key(header.tenant, header.executionId, ""), clone(note));
  }

  async lastFailure(header: ExecutionHeader): Promise<FailureNote | undefined> {
    return this.failures.get(this.#key(header.tenant, header.executionId, ""));
  }

  /** Redrive links by (tenant, execution): the one it redrives, and its redrives by time. */
  readonly redriveLinks = new Map<
    string,
    { of?: { id: string; at: number }; to: Map<string, string> }
  >();

  async putLink(
    owner: ExecutionOwner,
    link: { kind: "redriveOf" | "redrive"; executionId: string; at: number },
  ): Promise<void> {
    this.calls.writes++;
    const key = this.#key(owner.tenant, owner.executionId, "");
    const entry = this.redriveLinks.get(key) ?? { to: new Map<string, string>() };
    if (link.kind === "redriveOf") entry.of = { id: link.executionId, at: link.at };
    else entry.to.set(`${String(link.at).padStart(13, "0")}#${link.executionId}`, link.executionId);
    this.redriveLinks.set(key, entry);
  }

  async links(owner: ExecutionOwner): Promise<ExecutionLinks> {
    this.calls.queries++;
    const entry = this.redriveLinks.get(this.#key(owner.tenant, owner.executionId, ""));
    const redrives = [...(entry?.to.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
    const ids = redrives.map(([, id]) => id);
    return entry?.of === undefined
      ? { redrives: ids }
      : { redriveOf: entry.of.id, redrivenAt: entry.of.at, redrives: ids };
  }

  async usageOf(
    owner: ExecutionOwner,
    maxItems: number,
  ): Promise<{ usage: Usage; complete: boolean }> {
    this.calls.queries++;
    const prefix = this.#key(owner.tenant, owner.executionId, "");
    const summary = this.summaries.get(this.#key(owner.tenant, owner.executionId, ROOT));
    const items = [...this.logs].flatMap(([key, steps]) => (key.startsWith(prefix) ? steps : []));
    if (summary) items.push(summary);
    let total = NO_USAGE;
    for (const item of items.slice(0, maxItems))
      if (item.usage) total = addUsage(total, item.usage);
    return { usage: total, complete: items.length <= maxItems };
  }
}

/** How the DynamoDB adapter orders waiter entries: `W#<event>#<thread>#<step, 10 digits>`. */
const waiterKey = (thread: string, version: number): string =>
  `${thread}#${String(version).padStart(10, "0")}`;

/** How the DynamoDB adapter orders a thread's steps: `S#<thread>#…` (so `#` sorts before `/`). */
const stepKey = (thread: string): string => `${thread}#`;
