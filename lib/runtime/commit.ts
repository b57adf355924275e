/**
 * Committing a step of a thread's log: apply an event through the engine, write the
 * step with one conditional put of a new item, then carry out what it causes. A
 * message whose step is already committed — its redelivery, or a copy running beside
 * it — re-sends what that step caused instead of applying anything twice.
 */
import {
  applyThreadEvent,
  ERRORS,
  type HistoryEvent,
  ROOT_THREAD,
  type ThreadEvent,
  type ThreadStep,
} from "../core/engine/index.ts";
import type { ExecutionHeader, StoredThread, ThreadRecord } from "../core/ports.ts";
import { withParent } from "./budget.ts";
import { type RuntimeContext, runningKey } from "./context.ts";
import { RuntimeError } from "./errors.ts";
import { fitMessages, type Prepared, prepare, resentOutbox } from "./outbox.ts";
import type { Work } from "./unit-of-work.ts";

/** Conditional-write conflicts retried in one invocation before the message is left to redelivery. */
export const MAX_CONFLICT_RETRIES = 50;
/** Steps read to find what a message caused: its own step and the inline steps after it. */
export const RECENT_STEPS = 6;

/** A conditional write lost to another writer: read again and retry. */
export const CONFLICT = Symbol("conflict");

/** A thread's state as a message carries it, or as read: the step it applies to. */
export interface Snapshot {
  readonly thread: StoredThread;
  readonly version: number;
  readonly causedBy?: string;
  readonly origin?: string;
  /**
   * History of an uncommitted step on top of `version` (a branch's or a start's first
   * step, 0; a join's continuation), written with the next commit.
   */
  readonly pending?: readonly HistoryEvent[];
}

/** What applying a message did. */
export type Applied = "committed" | "resent" | "done" | "unchanged";

/**
 * Runs `attempt` until it settles, backing off between lost conditional writes.
 * @throws RuntimeError CONFLICT after MAX_CONFLICT_RETRIES: the message is redelivered.
 */
export async function untilCommitted<T>(
  rt: RuntimeContext,
  what: string,
  attempt: () => Promise<{ value: T } | typeof CONFLICT>,
): Promise<T> {
  for (let n = 0; n < MAX_CONFLICT_RETRIES; n++) {
    const outcome = await attempt();
    if (outcome !== CONFLICT) return outcome.value;
    const ms = Math.random() * (rt.options.conflictBackoffMs ?? 10) * (n + 1);
    if (ms >= 1) await new Promise((resolve) => setTimeout(resolve, ms));
  }
  throw new RuntimeError("CONFLICT", `${what} kept changing under us`);
}

/**
 * What message `mid` did to a thread, from its latest steps: `chain` when the thread's
 * latest step is of its chain (its outboxes may be unsent: re-send them), `done` when
 * the thread has moved on past it, `none` when it was never applied.
 */
export async function findCaused(
  rt: RuntimeContext,
  header: ExecutionHeader,
  threadId: string,
  mid: string,
): Promise<
  | { readonly kind: "chain"; readonly steps: ThreadRecord[] }
  | {
      readonly kind: "done" | "none";
      readonly latest: ThreadRecord | undefined;
      /** The thread's latest steps, newest first. */
      readonly recent: readonly ThreadRecord[];
    }
> {
  const recent = await rt.store.recentSteps(header, threadId, RECENT_STEPS);
  const latest = recent[0];
  const mine = (r: ThreadRecord) => r.causedBy === mid || r.origin === mid;
  if (latest && mine(latest)) {
    const steps: ThreadRecord[] = [];
    for (const record of recent) {
      if (!mine(record)) break;
      steps.unshift(record);
    }
    return { kind: "chain", steps };
  }
  return { kind: recent.some(mine) ? "done" : "none", latest, recent };
}

/** A redelivered message's steps are committed: finish what they began and send what they caused. */
export async function resend(
  rt: RuntimeContext,
  work: Work,
  steps: readonly ThreadRecord[],
): Promise<void> {
  for (const record of steps) {
    const { header } = record;
    if (record.consumed) {
      await rt.store.deleteBufferedEvent(
        header,
        record.consumed.event,
        record.consumed.key,
        record.thread.id,
      );
    }
    if (record.thread.id === ROOT_THREAD && record.thread.status !== "running")
      work.batch.end(record);
    const messages = resentOutbox(record);
    await fitMessages(rt, header, messages);
    work.dispatch(messages);
  }
}

/**
 * Applies an event to a thread: from the snapshot the message carried (no read),
 * else from the latest step; commits with a conditional put; on a conflict, reads
 * and tries again.
 */
export async function applyEvent(
  rt: RuntimeContext,
  work: Work,
  header: ExecutionHeader,
  threadId: string,
  event: ThreadEvent,
  mid: string,
  carried?: Snapshot,
  consumed?: { event: string; key: string },
): Promise<Applied> {
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const context = await rt.executionContext(header);
  let snapshot = carried;
  let current = event;
  return untilCommitted(rt, `thread ${threadId} of ${header.executionId}`, async () => {
    if (!snapshot) {
      const found = await findCaused(rt, header, threadId, mid);
      if (found.kind === "chain") {
        if (!work.mayResend) return { value: "done" };
        await resend(rt, work, found.steps);
        return { value: "resent" };
      }
      if (found.kind === "done") return { value: "done" };
      const latest =
        found.latest ?? (threadId === ROOT_THREAD ? await lazyRoot(rt, header) : undefined);
      if (!latest) {
        if (current.type !== "CancelRequested" && current.type !== "Aborted") {
          throw new RuntimeError(
            "MISSING_RECORD",
            `thread ${threadId} of ${header.executionId} does not exist (yet)`,
          );
        }
        // A branch with no step yet (its first run is queued): leave an ended step, so
        // that run finds it and does not start.
        if (threadId === ROOT_THREAD) return { value: "unchanged" };
        work.batch.checkAlive();
        const written = await rt.store.putThread(
          tombstone(rt, header, threadId, current, mid),
          0,
          rt.runningExpiry(header),
        );
        // Its first run may be running in this very process: stop it now.
        if (written) rt.running.get(runningKey(header, threadId))?.abort();
        return written ? { value: "committed" } : CONFLICT;
      }
      snapshot = latest;
    }
    const thread = await rt.loadThread(snapshot.thread);
    const step = applyThreadEvent(definition, context, thread, current, rt.now());
    if (!step.changed) return { value: "unchanged" };
    let written: boolean;
    try {
      written = await commitThread(rt, work, header, step, snapshot, mid, consumed);
    } catch (error) {
      // A step that cannot fit an item is the workflow's error, not a poison message.
      if (!(error instanceof PayloadTooLarge) || current.type !== "ActivitySucceeded") throw error;
      current = {
        type: "ActivityFailed",
        token: current.token,
        error: { name: ERRORS.PAYLOAD_TOO_LARGE, message: error.message, retryable: false },
      };
      return CONFLICT;
    }
    if (written) return { value: "committed" };
    snapshot = undefined;
    return CONFLICT;
  });
}

/**
 * The root of a lazy start (its summary is step 0: the first run carries the root and
 * has not committed): the summary as the step an event applies to, its history pending.
 */
async function lazyRoot(
  rt: RuntimeContext,
  header: ExecutionHeader,
): Promise<Snapshot | undefined> {
  const summary = await rt.store.getSummary(header.tenant, header.executionId);
  if (summary?.version !== 0 || summary.thread.status !== "running") return undefined;
  return { thread: summary.thread, version: 0, pending: summary.events };
}

/** Raised when a step cannot be made to fit DynamoDB's item limit. */
export class PayloadTooLarge extends RuntimeError {
  constructor(message: string) {
    super("BAD_MESSAGE", message);
    this.name = "PayloadTooLarge";
  }
}

/** A step item larger than this is refused before DynamoDB would (400 KB, less the keys). */
export const STEP_ITEM_BUDGET_BYTES = 390 * 1024;

/**
 * Commits the step after `previous` (version 0: the thread's first); false when
 * another writer committed that step first.
 */
export async function commitThread(
  rt: RuntimeContext,
  work: Work,
  header: ExecutionHeader,
  step: ThreadStep,
  previous: Snapshot | { readonly version: 0 },
  mid: string,
  consumed?: { event: string; key: string },
): Promise<boolean> {
  const expected = previous.version;
  // Steps caused by follow-ups of a received message, processed in its invocation, name
  // that message: its redelivery finds them, in this thread or the next, and re-sends.
  const origin = work.cause !== mid ? work.cause : undefined;
  const prepared = await prepare(
    rt,
    header,
    step,
    expected + 1,
    mid,
    origin === undefined ? {} : { origin },
  );
  const pending = "pending" in previous ? (previous.pending ?? []) : [];
  const base =
    pending.length > 0
      ? { ...prepared.record, events: [...pending, ...prepared.record.events] }
      : prepared.record;
  const owned: ThreadRecord = consumed ? { ...base, consumed } : base;
  const size = Buffer.byteLength(JSON.stringify(owned));
  if (size > STEP_ITEM_BUDGET_BYTES)
    throw new PayloadTooLarge(
      `step ${owned.version} of thread ${owned.thread.id} is ${size} bytes, over the ${STEP_ITEM_BUDGET_BYTES}-byte item budget`,
    );
  // What this invocation spent for the execution so far is recorded with the step.
  const usage = rt.takeUsage(header);
  const record: ThreadRecord = usage ? { ...owned, usage } : owned;
  const ended = step.thread.status !== "running";
  const root = step.thread.id === ROOT_THREAD;
  work.batch.checkAlive();
  // A branch that starts waiting for an event is indexed before its step is committed:
  // `signal` then finds it with one query. An entry whose commit never happens is
  // harmless (delivery checks the thread's latest step); the root needs none (signal
  // reads it anyway).
  const waits = !root && !ended ? eventOf(step.thread.waiting) : undefined;
  if (waits !== undefined)
    await rt.store.putEventWaiter(
      header,
      waits,
      step.thread.id,
      expected + 1,
      rt.runningExpiry(header),
    );
  if (
    !(await rt.store.putThread(
      record,
      expected,
      // Every step expires: the last one the retention after the end, the others (like
      // every item written while the execution runs) the retention after its longest life.
      rt.stepExpiry(header, ended && root),
    ))
  ) {
    if (usage) rt.meter.current?.giveBack(header, usage);
    return false;
  }
  if (consumed)
    await rt.store.deleteBufferedEvent(header, consumed.event, consumed.key, step.thread.id);
  // The wait this step ended leaves the index — after the event is marked consumed, so
  // a retried signal whose consumer did not mark it still finds that consumer by it. A
  // crash before this leaves a stale entry: harmless, and it expires with the execution.
  const waited = !root && "thread" in previous ? eventOf(previous.thread.waiting) : undefined;
  if (waited !== undefined)
    await rt.store.deleteEventWaiter(header, waited, step.thread.id, expected);
  await afterCommit(rt, work, record, prepared);
  return true;
}

/** The event a thread waits for, if it waits for one. */
function eventOf(waiting: StoredThread["waiting"]): string | undefined {
  return waiting?.kind === "event" ? waiting.event : undefined;
}

/** Carries out a committed step: its joins, its messages, and (once sent) the summary at the end. */
export async function afterCommit(
  rt: RuntimeContext,
  work: Work,
  record: ThreadRecord,
  prepared: Prepared,
): Promise<void> {
  const { header } = record;
  // Created after the step: a conflicting writer of the same step never leaves a join of its own.
  for (const join of prepared.joins)
    await rt.store.putJoin(withParent(join, record), 0, rt.runningExpiry(header));
  if (record.thread.id === ROOT_THREAD && record.thread.status !== "running")
    work.batch.end(record);
  for (const key of prepared.cancels) rt.running.get(key)?.abort();
  if (prepared.metrics.length > 0) {
    for (const metric of prepared.metrics) rt.metrics.emit(header, [metric], rt.now());
  }
  work.dispatch(prepared.live);
}

/** An ended first step for a branch that never wrote one, so its queued first run stops. */
function tombstone(
  rt: RuntimeContext,
  header: ExecutionHeader,
  id: string,
  event: ThreadEvent,
  mid: string,
): ThreadRecord {
  const now = rt.now();
  const error =
    event.type === "Aborted"
      ? event.error
      : {
          name: ERRORS.CANCELLED,
          message: event.type === "CancelRequested" ? event.reason : "cancelled",
        };
  const status = event.type === "Aborted" ? "failed" : "cancelled";
  return {
    header,
    version: 1,
    causedBy: mid,
    outbox: [],
    events: [],
    committedAt: now,
    thread: {
      id,
      flow: [],
      status,
      current: "",
      step: 0,
      attempt: 1,
      enteredAt: now,
      data: { inline: null },
      rng: 0,
      transitions: 0,
      recorded: 0,
      error,
    },
  };
}
