/**
 * Read-side helpers over the ExecutionStore: an execution as users see it (large
 * values read back through the payload codec), listing with time filters, and
 * history pages whose offloaded values are resolved.
 */
import type { HistoryEvent, WorkflowError } from "../core/engine/types.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  ExecutionStatus,
  ExecutionStore,
  ExecutionView,
  ListFilter,
  Stored,
} from "../core/ports.ts";
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

/**
 * The values one API answer carries at most, in bytes: 2.5 MiB. A Lambda returns at most
 * 6 MB (past it API Gateway answers 500, whatever the function meant), and the answer's
 * body is itself a string inside Lambda's JSON, where each `"` and `\` it holds is
 * escaped again: up to twice the size. A value that does not fit is left out, and named
 * in `omitted` with its size.
 */
export const MAX_ANSWER_VALUE_BYTES = 2.5 * 1024 * 1024;

/** Values left out of an answer for their size: the field, and the value's size in bytes. */
export interface Omitted {
  readonly input?: number;
  readonly output?: number;
}

/** A history event as answered: its values read back, or named in `omitted`. */
export type AnsweredHistoryEvent = HistoryEvent & { readonly omitted?: Omitted };

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
  /** The input (absent when `omitted` names it). */
  readonly input?: JsonValue;
  /** The final data, when the execution succeeded (and `omitted` does not name it). */
  readonly output?: JsonValue;
  /** The values too large for one answer (see {@link MAX_ANSWER_VALUE_BYTES}). */
  readonly omitted?: Omitted;
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
 * How much an answer may still read, and what it left out: a reference is read only
 * when it is the owner's own (or the read is refused), and left out when larger than
 * what is left of the budget.
 */
class AnswerBudget {
  #left: number;
  readonly #prefix: string;
  readonly #owner: PayloadOwner;

  constructor(owner: PayloadOwner, maxValueBytes: number) {
    this.#left = maxValueBytes;
    this.#owner = owner;
    this.#prefix = payloadPrefix(owner);
  }

  /**
   * The reference to read for `field`, or undefined when `omitted` got it instead.
   * @throws ForeignReferenceError for a reference outside the owner's prefix
   */
  take(
    ref: unknown,
    field: "input" | "output",
    omitted: { -readonly [K in keyof Omitted]: number },
  ) {
    const own = ownRef(ref, this.#prefix);
    if (!own) throw new ForeignReferenceError(this.#owner, field);
    if (own.bytes > this.#left) {
      omitted[field] = own.bytes;
      return undefined;
    }
    this.#left -= own.bytes;
    return own;
  }
}

/** `stored` read back when `ref` is given (inline values are already there). */
async function readStored(
  codec: PayloadCodec,
  stored: Stored,
  ref: HistoryRef | undefined,
): Promise<JsonValue | undefined> {
  if ("inline" in stored) return stored.inline;
  return ref === undefined ? undefined : codec.load(ref);
}

/**
 * Loads an execution's input and output (from the payload store when offloaded, and
 * only from under its own `payloads/<tenant>/<execution>/` prefix)
 * and, with `withCurrent`, where it is (one more read when the root waits for a join).
 * The cost is bounded by the request, not by the execution: a 100,000-item Map reads
 * its join's item, never its branches; an offloaded value past `maxValueBytes` (all of
 * them together) is not read but named in `omitted`.
 * @throws ForeignReferenceError for a stored reference outside the execution's prefix
 */
export async function describeExecution(
  view: ExecutionView,
  codec: PayloadCodec,
  store: ExecutionStore,
  withCurrent: boolean,
  maxValueBytes: number = Number.POSITIVE_INFINITY,
): Promise<ExecutionDetails> {
  const { header, thread } = view;
  const budget = new AnswerBudget(header, maxValueBytes);
  const omitted: { -readonly [K in keyof Omitted]: number } = {};
  const take = (stored: Stored, field: "input" | "output") =>
    "inline" in stored ? undefined : budget.take(stored, field, omitted);
  const succeeded = thread.status === "succeeded";
  const inputRef = take(header.input, "input");
  const outputRef = succeeded ? take(thread.data, "output") : undefined;
  const [input, output] = await Promise.all([
    readStored(codec, header.input, inputRef),
    succeeded ? readStored(codec, thread.data, outputRef) : Promise.resolve(undefined),
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
    ...(input === undefined ? {} : { input }),
    ...(output === undefined ? {} : { output }),
    ...(Object.keys(omitted).length > 0 ? { omitted } : {}),
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

/**
 * The fault of a stored reference that is not the execution's own: a corrupt or forged
 * item (user data is never a reference), refused before anything is read.
 */
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
 * be a key under this execution's own prefix or it is not read. With `maxValueBytes`
 * (an API answer's), the page ends early at the last event that fits, and a value too
 * large for it alone is named in `omitted` instead.
 * @throws ForeignReferenceError for a reference outside that prefix
 */
export async function readHistory(
  store: ExecutionStore,
  codec: PayloadCodec,
  owner: PayloadOwner,
  limit: number,
  cursor?: string,
  maxValueBytes: number = Number.POSITIVE_INFINITY,
  view?: ExecutionView,
): Promise<{ items: AnsweredHistoryEvent[]; cursor?: string }> {
  // A lazy start's root has no step until its first run commits (`view` is then its
  // summary, step 0): its first events, a few, are the summary's, ahead of the rest.
  const lead = cursor === undefined && view?.version === 0 ? view.events : [];
  if (lead.length > 0) {
    const more = Math.max(1, limit - lead.length);
    const rest = await readHistory(store, codec, owner, more, cursor, maxValueBytes);
    const items = [...(await loadEvents(codec, owner, lead, maxValueBytes)), ...rest.items];
    return rest.cursor === undefined ? { items } : { items, cursor: rest.cursor };
  }
  let page = await store.readHistory(owner.tenant, owner.executionId, limit, cursor);
  // A page of large events ends early, at the last that fits, so that the next page
  // (from its cursor) gets the rest: one more read, of fewer events.
  const fitting = fittingPrefix(page.items, maxValueBytes);
  if (fitting < page.items.length)
    page = await store.readHistory(owner.tenant, owner.executionId, fitting, cursor);
  const items = await loadEvents(codec, owner, page.items, maxValueBytes);
  return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
}

/** How many of `events` (at least one) fit in `maxBytes`, inline values and references' sizes counted. */
function fittingPrefix(events: readonly StoredHistoryEvent[], maxBytes: number): number {
  if (!Number.isFinite(maxBytes)) return events.length;
  let total = 0;
  for (const [index, stored] of events.entries()) {
    const { refs, ...event } = stored;
    total +=
      Buffer.byteLength(JSON.stringify(event)) +
      (refs?.input?.bytes ?? 0) +
      (refs?.output?.bytes ?? 0);
    if (total > maxBytes) return Math.max(1, index);
  }
  return events.length;
}

/**
 * Stored history events (a page, or a step's `events`) with their offloaded values read
 * back, each reference checked to be the execution's own; past `maxValueBytes` (all of
 * the page's together), a value is not read but named in the event's `omitted`.
 * @throws ForeignReferenceError for a reference outside its prefix
 */
export async function loadEvents(
  codec: PayloadCodec,
  owner: PayloadOwner,
  events: readonly StoredHistoryEvent[],
  maxValueBytes: number = Number.POSITIVE_INFINITY,
): Promise<AnsweredHistoryEvent[]> {
  const budget = new AnswerBudget(owner, maxValueBytes);
  // What to read is decided in order (the budget runs out at the end of the page); the reads run at once.
  const plans = events.map((stored) => {
    const { refs, ...event } = stored;
    const omitted: { -readonly [K in keyof Omitted]: number } = {};
    const reads: [field: "input" | "output", ref: HistoryRef][] = [];
    for (const field of ["input", "output"] as const) {
      if (refs?.[field] === undefined) continue;
      const ref = budget.take(refs[field], field, omitted);
      if (ref) reads.push([field, ref]);
    }
    return { event, omitted, reads };
  });
  return Promise.all(
    plans.map(async ({ event, omitted, reads }): Promise<AnsweredHistoryEvent> => {
      let out: AnsweredHistoryEvent = event;
      for (const [field, ref] of reads) out = { ...out, [field]: await codec.load(ref) };
      return Object.keys(omitted).length > 0 ? { ...out, omitted } : out;
    }),
  );
}
