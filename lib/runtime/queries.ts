/**
 * Read-side helpers over the ExecutionStore: an execution as users see it (large
 * values read back through the payload codec), listing with time filters, and
 * history pages whose offloaded values are resolved.
 */
import type { HistoryEvent, WorkflowError } from "../core/engine/types.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionStatus, ExecutionStore, ExecutionView, ListFilter } from "../core/ports.ts";
import type { HistoryRef, StoredHistoryEvent } from "./budget.ts";
import { type PayloadCodec, type PayloadOwner, payloadPrefix } from "./codec.ts";

/** A thread that is still running: where it is and what it waits for. */
export interface CurrentState {
  /** `root`, or a branch's thread id (`<join>[<index>]`). */
  readonly thread: string;
  readonly state: string;
  /** Epoch ms the state was entered. */
  readonly enteredAt: number;
  /** `activity`, `wait`, `event:<name>` or `join` while the thread waits. */
  readonly waiting?: string;
  readonly attempt: number;
  /** While the thread waits for a join: how many branches it has and how they stand. */
  readonly branches?: {
    readonly total: number;
    readonly started: number;
    readonly succeeded: number;
    readonly failed: number;
  };
}

/** An execution with its values loaded. */
export interface ExecutionDetails {
  readonly tenant: string;
  readonly executionId: string;
  readonly app: string;
  readonly workflow: string;
  readonly definitionHash: string;
  readonly status: ExecutionStatus;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Epoch ms the current (or, once ended, the final) state of the root thread was entered. */
  readonly stateEnteredAt: number;
  /** Epoch ms the execution ended: its root's last commit (absent while it runs). */
  readonly endedAt?: number;
  readonly transitions: number;
  readonly input: JsonValue;
  /** The final data, when the execution succeeded. */
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
  /**
   * Where the execution is, when it is running and `withCurrent` was asked: the root
   * thread, and while it waits for a Parallel or Map its join's progress. Reading it
   * costs two items whatever the width of the execution (no branch thread is read).
   */
  readonly current?: readonly CurrentState[];
}

const waitingLabel = (view: ExecutionView): string | undefined => {
  const waiting = view.thread.waiting;
  if (!waiting) return undefined;
  return waiting.kind === "event" ? `event:${waiting.event}` : waiting.kind;
};

const currentOf = (view: ExecutionView): CurrentState => {
  const waiting = waitingLabel(view);
  return {
    thread: view.thread.id,
    state: view.thread.current,
    enteredAt: view.thread.enteredAt,
    attempt: view.thread.attempt,
    ...(waiting === undefined ? {} : { waiting }),
  };
};

/**
 * Loads an execution's input and output (from the payload store when offloaded)
 * and, with `withCurrent`, where it is (one more read when the root waits for a join).
 * The cost is bounded by the request, not by the execution: a 100,000-item Map reads
 * its join's item, never its branches.
 */
export async function describeExecution(
  view: ExecutionView,
  codec: PayloadCodec,
  store: ExecutionStore,
  withCurrent: boolean,
): Promise<ExecutionDetails> {
  const { header, thread } = view;
  const [input, output] = await Promise.all([
    codec.load(header.input),
    thread.status === "succeeded" ? codec.load(thread.data) : Promise.resolve(undefined),
  ]);
  let current: CurrentState[] | undefined;
  if (withCurrent && thread.status === "running") {
    const root = currentOf(view);
    const waiting = thread.waiting;
    const join = waiting?.kind === "join" ? await store.getJoin(header, waiting.joinId) : undefined;
    current = [
      join
        ? {
            ...root,
            branches: {
              total: join.join.total,
              started: join.join.started,
              succeeded: join.join.succeeded.length,
              failed: join.join.failed.length,
            },
          }
        : root,
    ];
  }
  return {
    tenant: header.tenant,
    executionId: header.executionId,
    app: header.app,
    workflow: header.workflow,
    definitionHash: header.definitionHash,
    status: thread.status as ExecutionStatus,
    startedAt: header.startedAt,
    stateEnteredAt: thread.enteredAt,
    ...(thread.status === "running" ? {} : { endedAt: view.committedAt }),
    transitions: thread.transitions,
    input,
    ...(output === undefined ? {} : { output }),
    ...(thread.error ? { error: thread.error } : {}),
    ...(current ? { current } : {}),
  };
}

/** Store pages one list request reads at most while time filters skip executions. */
export const MAX_LIST_SCAN_PAGES = 10;

/**
 * Lists executions newest first, with optional start-time bounds (epoch ms;
 * `startedAfter` inclusive, `startedBefore` exclusive). The store's order (by start
 * time, descending) lets the after-bound end the listing early.
 * @returns at most `limit` executions and the store's cursor for the next page.
 */
export async function listExecutions(
  store: ExecutionStore,
  filter: ListFilter & { readonly startedAfter?: number; readonly startedBefore?: number },
  limit: number,
  cursor?: string,
): Promise<{ items: ExecutionView[]; cursor?: string }> {
  const { startedAfter, startedBefore, ...storeFilter } = filter;
  const items: ExecutionView[] = [];
  let next = cursor;
  for (let page = 0; page < MAX_LIST_SCAN_PAGES; page++) {
    const result = await store.listExecutions(storeFilter, limit - items.length, next);
    for (const view of result.items) {
      const started = view.header.startedAt;
      if (startedAfter !== undefined && started < startedAfter) return { items };
      if (startedBefore !== undefined && started >= startedBefore) continue;
      items.push(view);
    }
    next = result.cursor;
    if (next === undefined || items.length >= limit) break;
  }
  return next === undefined ? { items } : { items, cursor: next };
}

/** A reference of this execution's own payloads (a key under its prefix, no `..`), or undefined. */
const ownRef = (ref: unknown, prefix: string): HistoryRef | undefined => {
  if (typeof ref !== "object" || ref === null) return undefined;
  const { ref: key, bytes } = ref as Partial<HistoryRef>;
  if (typeof key !== "string" || typeof bytes !== "number") return undefined;
  if (!key.startsWith(prefix) || key.slice(prefix.length).includes("/")) return undefined;
  return { ref: key, bytes };
};

/** The fault of a stored reference that is not the execution's own: a corrupt item, never user data. */
export class ForeignReferenceError extends Error {
  readonly code = "FOREIGN_REFERENCE";
  constructor(owner: PayloadOwner, field: string) {
    super(
      `a history event of execution ${owner.executionId} references a payload outside its own prefix (${field})`,
    );
    this.name = "ForeignReferenceError";
  }
}

/**
 * A page of history with offloaded `input`/`output` values read back. References live
 * in the stored event's `refs` (see budget.ts), where no user value can be; each must
 * be a key under this execution's own prefix or it is not read.
 * @throws ForeignReferenceError for a reference outside that prefix
 */
export async function readHistory(
  store: ExecutionStore,
  codec: PayloadCodec,
  owner: PayloadOwner,
  limit: number,
  cursor?: string,
): Promise<{ items: HistoryEvent[]; cursor?: string }> {
  const page = await store.readHistory(owner.tenant, owner.executionId, limit, cursor);
  const items = await loadEvents(codec, owner, page.items);
  return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
}

/**
 * Stored history events (a page, or a step's `events`) with their offloaded values read
 * back, each reference checked to be the execution's own.
 * @throws ForeignReferenceError for a reference outside its prefix
 */
export async function loadEvents(
  codec: PayloadCodec,
  owner: PayloadOwner,
  events: readonly StoredHistoryEvent[],
): Promise<HistoryEvent[]> {
  const prefix = payloadPrefix(owner);
  return Promise.all(
    events.map(async (stored) => {
      const { refs, ...event } = stored;
      let out: HistoryEvent = event;
      for (const field of ["input", "output"] as const) {
        if (refs?.[field] === undefined) continue;
        const ref = ownRef(refs[field], prefix);
        if (!ref) throw new ForeignReferenceError(owner, field);
        out = { ...out, [field]: await codec.load(ref) };
      }
      return out;
    }),
  );
}
