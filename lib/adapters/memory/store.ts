/**
 * An in-memory ExecutionStore for seeded simulations of the runtime. It keeps
 * the same contract as the DynamoDB adapter (the contract suite runs on both),
 * including conditional writes, and copies values in and out so callers can
 * never share mutable state with it.
 */
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

const ROOT = "root";
const clone = <T>(value: T): T => structuredClone(value);

export class MemoryExecutionStore implements ExecutionStore {
  readonly threads = new Map<string, ThreadRecord>();
  readonly joins = new Map<string, JoinRecord>();
  readonly history = new Map<string, HistoryEvent[]>();
  readonly definitions = new Map<string, { name: string; source: string }>();
  readonly buffered = new Map<
    string,
    { id: string; order: string; payload: Stored; consumed: boolean }[]
  >();
  readonly failures = new Map<string, string>();
  readonly expiries = new Map<string, number>();
  /** Counts calls, for tests and benchmarks; `endings` counts root writes that ended an execution. */
  readonly calls = { reads: 0, writes: 0, queries: 0, endings: 0, largestItemBytes: 0 };

  #measure(record: unknown): void {
    this.calls.largestItemBytes = Math.max(
      this.calls.largestItemBytes,
      JSON.stringify(record).length,
    );
  }

  #key(tenant: string, executionId: string, id: string): string {
    return `${tenant}\u0000${executionId}\u0000${id}`;
  }

  async createExecution(
    record: ThreadRecord,
    expiresAt?: number,
  ): Promise<{ created: true } | { created: false; existing: ThreadRecord }> {
    const key = this.#key(record.header.tenant, record.header.executionId, ROOT);
    this.calls.writes++;
    const existing = this.threads.get(key);
    if (existing) return { created: false, existing: clone(existing) };
    this.#measure(record);
    this.threads.set(key, clone(record));
    if (expiresAt !== undefined) this.expiries.set(key, expiresAt);
    return { created: true };
  }

  async getExecution(tenant: string, executionId: string): Promise<ExecutionView | undefined> {
    this.calls.reads++;
    const record = this.threads.get(this.#key(tenant, executionId, ROOT));
    return record ? clone(record) : undefined;
  }

  async getThread(header: ExecutionHeader, threadId: string): Promise<ThreadRecord | undefined> {
    this.calls.reads++;
    const record = this.threads.get(this.#key(header.tenant, header.executionId, threadId));
    return record ? clone(record) : undefined;
  }

  async putThread(record: ThreadRecord, expected: number, expiresAt?: number): Promise<boolean> {
    this.calls.writes++;
    const key = this.#key(record.header.tenant, record.header.executionId, record.thread.id);
    const current = this.threads.get(key);
    if ((current?.version ?? 0) !== expected) return false;
    this.#measure(record);
    if (
      record.thread.id === ROOT &&
      record.thread.status !== "running" &&
      current?.thread.status === "running"
    ) {
      this.calls.endings++;
    }
    this.threads.set(key, clone(record));
    if (expiresAt !== undefined) this.expiries.set(key, expiresAt);
    return true;
  }

  async joinThreads(header: ExecutionHeader, joinId: string): Promise<ThreadRecord[]> {
    return this.#threadsWithPrefix(header, `${joinId}[`);
  }

  async branchThreads(header: ExecutionHeader): Promise<ThreadRecord[]> {
    return (await this.#threadsWithPrefix(header, "")).filter((r) => r.thread.id !== ROOT);
  }

  async #threadsWithPrefix(header: ExecutionHeader, prefix: string): Promise<ThreadRecord[]> {
    this.calls.queries++;
    const start = this.#key(header.tenant, header.executionId, prefix);
    return [...this.threads.entries()]
      .filter(([key]) => key.startsWith(start))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, record]) => clone(record));
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

  async appendHistory(header: ExecutionHeader, events: readonly HistoryEvent[]): Promise<void> {
    this.calls.writes++;
    const key = this.#key(header.tenant, header.executionId, "");
    const list = this.history.get(key) ?? [];
    const seen = new Set(list.map(historyKey));
    for (const event of events) if (!seen.has(historyKey(event))) list.push(clone(event));
    list.sort((a, b) => (historyKey(a) < historyKey(b) ? -1 : 1));
    this.history.set(key, list);
  }

  async appendHistories(entries: readonly HistoryAppend[]): Promise<void> {
    for (const { header, events } of entries) await this.appendHistory(header, events);
  }

  async readHistory(
    tenant: string,
    executionId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<HistoryEvent>> {
    this.calls.queries++;
    const list = this.history.get(this.#key(tenant, executionId, "")) ?? [];
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
    const all = [...this.threads.values()]
      .filter(
        (r) =>
          r.thread.id === ROOT && r.header.tenant === filter.tenant && r.header.app === filter.app,
      )
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

  async deleteBufferedEvent(header: ExecutionHeader, event: string, key: string): Promise<void> {
    this.calls.writes++;
    const list = this.buffered.get(this.#key(header.tenant, header.executionId, event)) ?? [];
    const entry = list.find((e) => e.id === key);
    if (entry) entry.consumed = true;
    else list.push({ id: key, order: "", payload: { inline: null }, consumed: true });
    this.buffered.set(this.#key(header.tenant, header.executionId, event), list);
  }

  async noteFailure(header: ExecutionHeader, reason: string): Promise<void> {
    this.failures.set(this.#key(header.tenant, header.executionId, ""), reason);
  }

  async lastFailure(header: ExecutionHeader): Promise<string | undefined> {
    return this.failures.get(this.#key(header.tenant, header.executionId, ""));
  }
}

/**
 * History items are keyed by time, thread and the event's position in its thread,
 * so they read in order and re-appending the same event is a no-op.
 */
export function historyKey(event: HistoryEvent): string {
  return `${String(event.at).padStart(13, "0")}#${event.thread}#${String(event.seq).padStart(8, "0")}`;
}
