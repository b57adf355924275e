/**
 * Read-side helpers over the ExecutionStore: an execution as users see it (large
 * values read back through the payload codec), listing with time filters, and
 * history pages whose offloaded values are resolved.
 */
import type { HistoryEvent, WorkflowError } from "../core/engine/types.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionStatus, ExecutionStore, ExecutionView, ListFilter } from "../core/ports.ts";
import type { HistoryRef } from "./budget.ts";
import { type PayloadCodec, payloadPrefix } from "./codec.ts";

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
  /** Running threads (root and branches), when the execution is running and `withCurrent` was asked. */
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
 * and, with `withCurrent`, its running branch threads (one more query).
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
    const branches = await store.branchThreads(header);
    current = [view, ...branches]
      .filter((r) => r.thread.status === "running" && r.thread.waiting?.kind !== "join")
      .map(currentOf);
    // A root waiting only for its join still says where it is when nothing else runs.
    if (current.length === 0) current = [currentOf(view)];
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

/** A history reference (see budget.ts) to this execution's own payloads; anything else is data. */
const refOf = (value: unknown, prefix: string): HistoryRef | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const ref = value as Partial<HistoryRef>;
  if (typeof ref.$cascadeRef !== "string" || typeof ref.bytes !== "number") return undefined;
  if (Object.keys(value).length !== 2 || !ref.$cascadeRef.startsWith(prefix)) return undefined;
  return ref as HistoryRef;
};

/** A page of history with offloaded `input`/`output` values (`{$cascadeRef, bytes}`) read back. */
export async function readHistory(
  store: ExecutionStore,
  codec: PayloadCodec,
  tenant: string,
  executionId: string,
  limit: number,
  cursor?: string,
): Promise<{ items: HistoryEvent[]; cursor?: string }> {
  const page = await store.readHistory(tenant, executionId, limit, cursor);
  // Only references under this execution's payloads are read: a value in user data that
  // looks like one names nothing else (no confused deputy across executions or tenants).
  const prefix = payloadPrefix(executionId);
  const items = await Promise.all(
    page.items.map(async (event) => {
      let out: HistoryEvent = event;
      for (const field of ["input", "output"] as const) {
        const ref = refOf(event[field], prefix);
        if (ref)
          out = { ...out, [field]: await codec.load({ ref: ref.$cascadeRef, bytes: ref.bytes }) };
      }
      return out;
    }),
  );
  return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
}
