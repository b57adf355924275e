/**
 * The durable runtime: carries out the engine's commands through the ports. This is
 * its facade — start, handle a message or a batch, cancel, signal, dead letters, the
 * reconciler. The protocol (DESIGN.md sections 4 and 5; docs/data-model.md):
 * 1. Every thread is a log of steps. A message's transition is one conditional put of
 *    the thread's next step (`attribute_not_exists`), holding the state after it, its
 *    history and the messages it causes (its outbox). No transactions.
 * 2. Only then are the messages sent, or — follow-ups that would come back to this same
 *    function — processed in this invocation's work loop (the 3-hop seed workflow).
 *    Queued messages are deleted only after every message they caused is sent.
 * 3. A redelivered message whose step is committed finds it (`causedBy`, or `origin`
 *    for the inline steps after it) and re-sends those steps' outboxes; every
 *    receiver is idempotent, and message ids name their cause, never a chain.
 * 4. A join keeps no outbox: it records which branches each report started and which
 *    report closed it, so a redelivered report re-derives what it caused.
 * 5. HTTP-caused transitions (start, signal, cancel) are repaired by a retried call,
 *    and without one by the reconciler, which re-sends what idle executions committed.
 */
import { randomUUID } from "node:crypto";
import type { StartFrom } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import {
  type ExecutionHeader,
  keyInExecution,
  messageKey,
  type OutMessage,
  type ThreadRecord,
  type UsageSink,
} from "../core/ports.ts";
import type { ActivityFunction } from "./activities.ts";
import { finishBatch } from "./batch-finish.ts";
import { RuntimeContext, type RuntimeDeps, type RuntimeOptions } from "./context.ts";
import { failDeadLetter } from "./dead-letter.ts";
import { drain, processMessage } from "./dispatch.ts";
import { cancelCall, type HttpCalls, signalCall, startCall } from "./http-calls.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { type ReconcileOptions, type ReconcileReport, reconcile } from "./reconcile.ts";
import { stillWanted } from "./recovery.ts";
import { type RedriveRequest, redrive } from "./redrive.ts";
import { Batch, Work } from "./unit-of-work.ts";
import { chargeRecords } from "./usage.ts";

export type { ActivityFunction } from "./activities.ts";
export { activityKeys, MAX_CACHED_RESULT_BYTES, resultCacheKey } from "./attempt.ts";
export {
  ENVELOPE_BUDGET_BYTES,
  HEADER_INPUT_INLINE_BYTES,
  HISTORY_INLINE_BYTES,
  PARENT_SNAPSHOT_BYTES,
} from "./budget.ts";
export { MAX_CONFLICT_RETRIES } from "./commit.ts";
export type { RuntimeDeps, RuntimeOptions } from "./context.ts";
export { CascadeRuntimeError, RuntimeError, StartError } from "./errors.ts";
export { EXECUTION_ID_PATTERN, MAX_MESSAGE_ID_CHARS } from "./message-ids.ts";
export { RedriveError, type RedriveRequest } from "./redrive.ts";
export { TRANSITIONS } from "./unit-of-work.ts";

/** The envelope of every queued message: what was sent, as it was sent. */
export type Envelope = OutMessage;

export { RUNTIME_FAILURE } from "./dead-letter.ts";

/** How an execution is started: its id and tenant, a trace, or a redrive (see redrive.ts). */
export interface StartOptions {
  readonly id?: string;
  readonly tenant?: string;
  readonly traceparent?: string;
  /** A redrive: the definition it is pinned to and where it starts. */
  readonly redrive?: { readonly definitionHash: string; readonly from: StartFrom };
}

/** What a cancel did: `cancelled` once it took effect, `ended` when the execution had ended. */
export type CancelOutcome =
  | { readonly outcome: "cancelled" }
  | { readonly outcome: "ended"; readonly status: string }
  | { readonly outcome: "missing" };

export class Runtime {
  readonly #rt: RuntimeContext;
  readonly #persisted = new Set<string>();

  readonly #calls: HttpCalls;

  constructor(deps: RuntimeDeps, options: RuntimeOptions) {
    this.#rt = new RuntimeContext(deps, options);
    this.#calls = {
      rt: this.#rt,
      persisted: this.#persisted,
      work: (batch, cause, header) => this.#work(batch, cause, header),
      finish: (batch, work) => this.#finish(batch, work),
    };
  }

  get codec() {
    return this.#rt.codec;
  }

  /** Where the adapters report the requests they make for executions (their cost). */
  get meter(): UsageSink {
    return this.#rt.meter;
  }

  /** Reports one SQS batch's records and failures to the metrics sink (BatchRecords, FailedRecords). */
  noteRecords(received: number, failed: number): void {
    this.#rt.metrics.records?.(this.#rt.options.app, received, failed, this.#rt.now());
  }

  /** New attempts run these activities (`cascade dev` reloads them on change). */
  replaceActivities(activities: ReadonlyMap<string, ActivityFunction>): void {
    this.#rt.replaceActivities(activities);
  }

  /** The work of a received message (or an HTTP call, named by `cause` in `header`'s execution). */
  #work(batch: Batch, cause: string, header?: ExecutionHeader): Work {
    const source = header ? keyInExecution(header, cause) : cause;
    return new Work(batch, cause, source, this.#rt.options.inline ?? true, () => this.#rt.now());
  }

  /**
   * Starts an execution of the app's current `workflow`, idempotent on `id`: a second
   * start with the same id returns the first, and finishes and re-sends what the first
   * committed if it stopped before sending it.
   */
  startExecution(
    workflow: string,
    input: JsonValue,
    options: StartOptions = {},
  ): Promise<{ executionId: string; created: boolean; record: ThreadRecord }> {
    return this.#rt.metered("api", () => startCall(this.#calls, workflow, input, options));
  }

  /**
   * Handles one queued message. Throws when it must be redelivered. With `batch` (from
   * `startBatch`), what it causes is sent with the batch (`finishBatch`).
   */
  async handle(envelope: Envelope, receiveCount = 1, batch?: Batch): Promise<Batch> {
    const rt = this.#rt;
    const own = batch ?? new Batch(false);
    const now = rt.now();
    const work = this.#work(own, envelope.mid, envelope.body.header);
    if (envelope.notBefore !== undefined && envelope.notBefore > now + 1_000) {
      // A timer longer than SQS allows: sent on for the rest of its delay, while still wanted.
      if (await stillWanted(rt, envelope))
        own.outgoing.push({ message: envelope, source: messageKey(envelope) });
    } else {
      // SQS delays by whole seconds: a message up to a second early waits out the rest here.
      if (envelope.notBefore !== undefined && envelope.notBefore > now)
        await pause(envelope.notBefore - now);
      if (envelope.sentAt !== undefined && receiveCount === 1) {
        own.latencies.push(Math.max(0, now - Math.max(envelope.sentAt, envelope.notBefore ?? 0)));
      }
      await processMessage(rt, work, envelope.mid, envelope.body, {
        receiveCount,
        fromQueue: true,
        ...(envelope.sentAt === undefined ? {} : { sentAt: envelope.sentAt }),
      });
      await drain(rt, work);
    }
    if (!batch) await this.#finish(own, work);
    return own;
  }

  /**
   * Runs the handling of an SQS batch as one metered engine invocation: each record's
   * execution is charged its share of the invocation, of the event source's receive and
   * delete, and the share of the send that carried it (see usage.ts).
   */
  meterBatch<T>(envelopes: readonly Envelope[], work: () => Promise<T>): Promise<T> {
    return this.#rt.metered("engine", work, (usage) => chargeRecords(usage, envelopes));
  }

  /**
   * Starts a batch: its reports to a join are applied together, in one write per join.
   * @param signal fired when the invocation is killed at its function's timeout: from
   * then on the batch commits and sends nothing (as a killed Lambda would not).
   */
  startBatch(signal?: AbortSignal): Batch {
    return new Batch(true, signal);
  }

  /**
   * Applies a batch's join reports (one conditional write per join) and carries out
   * what they cause, then sends every message the batch caused (10 per request,
   * across executions).
   * @returns the received messages (by `messageKey`) whose work failed: a join that could
   * not be written, a follow-up that threw, or a message the queue did not take.
   * @throws when sending failed and the queue did not say which messages.
   */
  finishBatch(batch: Batch): Promise<{ failed: { source: string; error: unknown }[] }> {
    return finishBatch(this.#rt, batch);
  }

  async #finish(batch: Batch, work: Work): Promise<void> {
    await drain(this.#rt, work);
    const failed = await this.finishBatch(batch);
    const first = failed.failed[0];
    if (first) throw first.error;
  }

  /**
   * Asks an execution to stop: records the request (queued work of the execution then
   * does not start), then cancels the root thread.
   * @returns `cancelled` once the cancel took effect (also for a retried call),
   * `ended` when the execution had ended otherwise.
   */
  cancel(tenant: string, executionId: string, reason: string): Promise<CancelOutcome> {
    return this.#rt.metered("api", () => cancelCall(this.#calls, tenant, executionId, reason));
  }

  /**
   * Sends an external event to an execution. It is kept until a state waits for it,
   * and delivered to at most one waiting state; a retry with the same `id` is taken
   * once, and finishes what the first call began if that one stopped.
   * @returns false when the execution does not exist or has ended.
   */
  signal(
    tenant: string,
    executionId: string,
    event: string,
    payload: JsonValue,
    id: string = randomUUID(),
  ): Promise<boolean> {
    return this.#rt.metered("api", () =>
      signalCall(this.#calls, tenant, executionId, event, payload, id),
    );
  }

  /**
   * A message that kept failing reached the dead-letter queue: fail what it concerned —
   * the Task's attempt (through its catch), the branch (through its join's tolerance),
   * the thread — with a readable reason, never the root unconditionally.
   */
  async deadLetter(envelope: Envelope): Promise<void> {
    const mid = MESSAGE_IDS.deadLetter(envelope.mid);
    const batch = new Batch(false);
    const work = this.#work(batch, mid, envelope.body.header);
    await failDeadLetter(this.#rt, work, envelope);
    await this.#finish(batch, work);
  }

  /** Records why a message failed: for `deadLetter` to report, and for its redelivery. */
  async noteFailure(envelope: Envelope, error: unknown): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await this.#rt.store.noteFailure(
      envelope.body.header,
      { mid: envelope.mid, reason: reason.slice(0, 1_000) },
      this.#rt.runningExpiry(envelope.body.header),
    );
  }

  /** Finds executions whose committed work was never sent, and sends it (see reconcile.ts). */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    const batch = new Batch(false);
    const work = this.#work(batch, "reconcile");
    const report = await reconcile(this.#rt, work, options);
    await this.#finish(batch, work);
    return report;
  }

  /**
   * Runs an ended execution again from a state it entered, as a new execution (`id`,
   * default a random UUID) on the original's pinned definition, linked both ways. The
   * links are written first (idempotent): a retry with the same `id` finishes a redrive
   * that stopped, as a retried start does.
   * @returns undefined when the execution does not exist
   * @throws RedriveError (see redrive.ts); StartError INVALID_ID, ID_CONFLICT
   */
  redrive(
    tenant: string,
    executionId: string,
    request: RedriveRequest & { readonly id?: string },
  ): Promise<
    { executionId: string; created: boolean; record: ThreadRecord; redriveOf: string } | undefined
  > {
    return this.#rt.metered("api", () =>
      redrive(this.#rt, (...args) => this.startExecution(...args), tenant, executionId, request),
    );
  }

  /** Step `step` of a thread's log: the state after it (redrive, the step inspector). */
  stateAt(
    header: ExecutionHeader,
    thread: string,
    step: number,
  ): Promise<ThreadRecord | undefined> {
    return this.#rt.store.stateAt(header, thread, step);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
