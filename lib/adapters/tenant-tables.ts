/**
 * Silo isolation (`tenants.isolation: silo` in cascade.yaml): one table per tenant.
 * Every call goes to the store of its tenant's table; a tenant without a table is
 * refused, so a request can never reach another tenant's data. Definitions (shared by
 * content hash, holding no tenant data) live in the first table.
 */
import type {
  ExecutionHeader,
  ExecutionOwner,
  ExecutionStore,
  FailureNote,
  JoinRecord,
  ListFilter,
  ShardTally,
  Stored,
  ThreadRecord,
} from "../core/ports.ts";
import { StoreError } from "../core/ports.ts";

/** Raised for a tenant that has no table of its own. */
export class UnknownTenantError extends StoreError {
  readonly tenant: string;
  constructor(tenant: string) {
    super(
      "UNKNOWN_TENANT",
      `tenant '${tenant}' has no table in this deployment (tenants.names in cascade.yaml)`,
    );
    this.name = "UnknownTenantError";
    this.tenant = tenant;
  }
}

export class TenantTablesStore implements ExecutionStore {
  readonly #stores: ReadonlyMap<string, ExecutionStore>;
  readonly #shared: ExecutionStore;

  /** @param stores one store per tenant; the first also keeps definitions. */
  constructor(stores: ReadonlyMap<string, ExecutionStore>) {
    const first = stores.values().next().value;
    if (!first) throw new Error("TenantTablesStore needs at least one tenant");
    this.#stores = stores;
    this.#shared = first;
  }

  #of(tenant: string): ExecutionStore {
    const store = this.#stores.get(tenant);
    if (!store) throw new UnknownTenantError(tenant);
    return store;
  }

  async createExecution(record: ThreadRecord, expiresAt?: number) {
    return this.#of(record.header.tenant).createExecution(record, expiresAt);
  }
  async getExecution(tenant: string, executionId: string) {
    return this.#of(tenant).getExecution(tenant, executionId);
  }
  async getThread(header: ExecutionHeader, threadId: string) {
    return this.#of(header.tenant).getThread(header, threadId);
  }
  async putThread(record: ThreadRecord, expected: number, expiresAt?: number) {
    return this.#of(record.header.tenant).putThread(record, expected, expiresAt);
  }
  async joinThreads(header: ExecutionHeader, joinId: string) {
    return this.#of(header.tenant).joinThreads(header, joinId);
  }
  async branchThreads(header: ExecutionHeader) {
    return this.#of(header.tenant).branchThreads(header);
  }
  async getJoin(header: ExecutionHeader, joinId: string) {
    return this.#of(header.tenant).getJoin(header, joinId);
  }
  async putJoin(record: JoinRecord, expected: number, expiresAt?: number) {
    return this.#of(record.header.tenant).putJoin(record, expected, expiresAt);
  }
  async tallyShard(
    header: ExecutionHeader,
    joinId: string,
    shard: number,
    add: ShardTally,
    expiresAt?: number,
  ) {
    return this.#of(header.tenant).tallyShard(header, joinId, shard, add, expiresAt);
  }
  async readShards(header: ExecutionHeader, joinId: string, shards: readonly number[]) {
    return this.#of(header.tenant).readShards(header, joinId, shards);
  }
  async tallyJoin(
    header: ExecutionHeader,
    joinId: string,
    update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
    expiresAt?: number,
  ) {
    return this.#of(header.tenant).tallyJoin(header, joinId, update, expiresAt);
  }
  async getSteps(
    header: ExecutionHeader,
    keys: readonly { readonly thread: string; readonly step: number }[],
  ) {
    return this.#of(header.tenant).getSteps(header, keys);
  }
  async putSummary(record: ThreadRecord, expiresAt?: number) {
    return this.#of(record.header.tenant).putSummary(record, expiresAt);
  }
  async getSummary(tenant: string, executionId: string) {
    return this.#of(tenant).getSummary(tenant, executionId);
  }
  async recentSteps(header: ExecutionHeader, threadId: string, limit: number) {
    return this.#of(header.tenant).recentSteps(header, threadId, limit);
  }
  async stateAt(header: ExecutionHeader, threadId: string, step: number) {
    return this.#of(header.tenant).stateAt(header, threadId, step);
  }
  async bufferedEventConsumer(header: ExecutionHeader, event: string, key: string) {
    return this.#of(header.tenant).bufferedEventConsumer(header, event, key);
  }
  async noteEventTaker(header: ExecutionHeader, event: string, key: string, thread: string) {
    return this.#of(header.tenant).noteEventTaker(header, event, key, thread);
  }
  async requestCancel(header: ExecutionHeader, reason: string, expiresAt?: number) {
    return this.#of(header.tenant).requestCancel(header, reason, expiresAt);
  }
  async cancelRequested(header: ExecutionHeader) {
    return this.#of(header.tenant).cancelRequested(header);
  }
  async putLink(
    owner: ExecutionOwner,
    link: { kind: "redriveOf" | "redrive"; executionId: string; at: number },
    expiresAt?: number,
  ) {
    return this.#of(owner.tenant).putLink(owner, link, expiresAt);
  }
  async links(owner: ExecutionOwner) {
    return this.#of(owner.tenant).links(owner);
  }
  async usageOf(owner: ExecutionOwner, maxItems: number) {
    return this.#of(owner.tenant).usageOf(owner, maxItems);
  }
  async readHistory(tenant: string, executionId: string, limit: number, cursor?: string) {
    return this.#of(tenant).readHistory(tenant, executionId, limit, cursor);
  }
  async listExecutions(filter: ListFilter, limit: number, cursor?: string) {
    return this.#of(filter.tenant).listExecutions(filter, limit, cursor);
  }
  async putDefinition(hash: string, name: string, source: string) {
    return this.#shared.putDefinition(hash, name, source);
  }
  async getDefinition(hash: string) {
    return this.#shared.getDefinition(hash);
  }
  async bufferEvent(
    header: ExecutionHeader,
    event: string,
    id: string,
    order: string,
    payload: Stored,
    expiresAt?: number,
  ) {
    return this.#of(header.tenant).bufferEvent(header, event, id, order, payload, expiresAt);
  }
  async putEventWaiter(
    header: ExecutionHeader,
    event: string,
    thread: string,
    version: number,
    expiresAt?: number,
  ) {
    return this.#of(header.tenant).putEventWaiter(header, event, thread, version, expiresAt);
  }
  async deleteEventWaiter(header: ExecutionHeader, event: string, thread: string, version: number) {
    return this.#of(header.tenant).deleteEventWaiter(header, event, thread, version);
  }
  async eventWaiters(header: ExecutionHeader, event: string, limit: number, cursor?: string) {
    return this.#of(header.tenant).eventWaiters(header, event, limit, cursor);
  }
  async peekBufferedEvent(header: ExecutionHeader, event: string) {
    return this.#of(header.tenant).peekBufferedEvent(header, event);
  }
  async deleteBufferedEvent(
    header: ExecutionHeader,
    event: string,
    key: string,
    consumedBy?: string,
  ) {
    return this.#of(header.tenant).deleteBufferedEvent(header, event, key, consumedBy);
  }
  async noteFailure(header: ExecutionHeader, note: FailureNote, expiresAt?: number) {
    return this.#of(header.tenant).noteFailure(header, note, expiresAt);
  }
  async lastFailure(header: ExecutionHeader) {
    return this.#of(header.tenant).lastFailure(header);
  }
}
