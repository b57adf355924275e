/**
 * The durable runtime: carries out the engine's commands through the ports.
 *
 * Commit protocol (DESIGN.md section 4; docs/data-model.md):
 * 1. A message's transition is committed with one conditional write on the
 *    thread's version (or, for a branch that ends in its first step, the join's),
 *    together with the messages it causes (the outbox) and the message's logical id
 *    (`causedBy`). No transactions.
 * 2. Only then are the messages sent (or, for follow-ups that would come back to
 *    this same function, processed inline: the 3-hop path). A redelivered message
 *    whose transition is committed — `causedBy` is its id or a follow-up's id below
 *    it — re-sends the record's outbox; every receiver is idempotent.
 * 3. A join keeps no outbox: it records which branches each report started and
 *    which report closed it, so a redelivered report re-derives what it caused.
 * 4. A buffered external event is deleted only after the commit that consumed it.
 */
import { createHash, randomUUID } from "node:crypto";
import { MAX_DURATION_MS } from "../core/cdl/duration.ts";
import { checkInput, type InputProblem } from "../core/cdl/input-schema.ts";
import {
  applyBranchFinished,
  applyThreadEvent,
  type BranchResult,
  type BranchSpec,
  branchSpecFor,
  branchThreadId,
  type CachePolicy,
  type Command,
  cancelJoin,
  closingCommands,
  ERRORS,
  type ExecutionContext,
  type HistoryEvent,
  type JoinOutcome,
  type JoinState,
  type JoinStep,
  type Metric,
  ROOT_THREAD,
  startBranch,
  startExecution,
  type ThreadEvent,
  type ThreadState,
  type ThreadStep,
  type WorkflowError,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  Clock,
  ExecutionHeader,
  ExecutionStore,
  JoinRecord,
  MessageQueue,
  OutMessage,
  PayloadStore,
  ResultCache,
  Stored,
  StoredEvent,
  StoredThread,
  ThreadRecord,
  WireMessage,
} from "../core/ports.ts";
import { DEFAULT_RETENTION_DAYS } from "../manifest/index.ts";
import { type ActivityFunction, runActivity } from "./activities.ts";
import { PayloadCodec } from "./codec.ts";
import type { DefinitionRegistry } from "./definitions.ts";

/** The queue name of transitions; dedicated workers are `worker:<region>`. */
export const TRANSITIONS = "transitions";
/** Inputs up to this size ride in every message's header; larger ones are referenced. */
export const HEADER_INPUT_INLINE_BYTES = 4 * 1024;
/**
 * A message or item over this many bytes of JSON has its large parts moved to the
 * payload store, whatever the offload threshold: SQS takes 256 KiB per message and
 * DynamoDB 400 KB per item, and a step's data and an activity's input could each be
 * just under the threshold.
 */
export const ENVELOPE_BUDGET_BYTES = 200 * 1024;

/** History events keep inputs and outputs up to this size inline; larger ones are referenced. */
export const HISTORY_INLINE_BYTES = 8 * 1024;

/** Conditional-write conflicts retried in one invocation before the message is left to redelivery. */
export const MAX_CONFLICT_RETRIES = 50;

export interface RuntimeOptions {
  readonly app: string;
  /** Values larger than this (JSON bytes) are offloaded to the payload store. Default 200 KB. */
  readonly offloadThresholdBytes?: number;
  /** Finished executions expire after this many days (TTL). Default 30. */
  readonly retentionDays?: number;
  /** Regions that have a dedicated worker queue; other `@region` activities run inline. */
  readonly workerRegions?: ReadonlySet<string>;
  /** Process follow-ups that would return to the transition queue in the same invocation. Default true. */
  readonly inline?: boolean;
  /** Where activity logs and metric lines go. Default: standard output. */
  readonly log?: (line: string) => void;
  /** Upper bound of the random pause before retrying a conflicting write, in ms (grows with each try). Default 10. */
  readonly conflictBackoffMs?: number;
}

export interface RuntimeDeps {
  /** Where Tasks with a `cache` policy keep results. Without it, `cache` is ignored. */
  readonly cache?: ResultCache;
  readonly store: ExecutionStore;
  readonly queue: MessageQueue;
  readonly payloads: PayloadStore;
  readonly clock: Clock;
  readonly definitions: DefinitionRegistry;
  readonly activities: ReadonlyMap<string, ActivityFunction>;
}

/** The envelope of every queued message: what was sent, as it was sent. */
export type Envelope = OutMessage;

/** Raised when an execution cannot start: its input fails the workflow's input_schema, or its id is taken. */
export class StartError extends Error {
  readonly code: "INVALID_INPUT" | "ID_CONFLICT" | "INVALID_ID";
  readonly problems: readonly InputProblem[];
  constructor(code: StartError["code"], message: string, problems: readonly InputProblem[] = []) {
    super(message);
    this.name = "StartError";
    this.code = code;
    this.problems = problems;
  }
}

/** Execution ids: what a caller may choose (they appear in keys and URLs). */
export const EXECUTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Raised when a message cannot be applied now (lost races beyond the retry budget); the queue redelivers it. */
export class RuntimeError extends Error {
  readonly code: "CONFLICT" | "MISSING_RECORD" | "BAD_MESSAGE";
  constructor(code: RuntimeError["code"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RuntimeError";
    this.code = code;
  }
}

/** A branch's report to its join, waiting to be applied with the batch's other reports. */
interface JoinReport {
  readonly mid: string;
  readonly output: { index: number; value: JsonValue } | undefined;
  readonly apply: (join: JoinState) => JoinStep;
}

/**
 * What an invocation (or a whole SQS batch) still has to write: its history,
 * appended once at the end, and (in a batch) the reports to each join, applied
 * together in one write per join (`finishBatch`).
 */
export interface Invocation {
  readonly history: { header: ExecutionHeader; events: HistoryEvent[] }[];
  /** Messages to send, together, before the causing messages are deleted. */
  readonly outgoing: OutMessage[];
  /** Transition latencies of the messages handled (ms), reported once. */
  readonly latencies: number[];
  readonly joins?: Map<string, { header: ExecutionHeader; joinId: string; reports: JoinReport[] }>;
}

const newInvocation = (): Invocation => ({ history: [], outgoing: [], latencies: [] });

export class Runtime {
  readonly #deps: RuntimeDeps;
  readonly #options: RuntimeOptions;
  readonly #codec: PayloadCodec;
  readonly #headerCodec: PayloadCodec;
  readonly #persisted = new Set<string>();
  readonly #running = new Map<string, AbortController>();
  readonly #log: (line: string) => void;

  constructor(deps: RuntimeDeps, options: RuntimeOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#codec = new PayloadCodec(deps.payloads, options.offloadThresholdBytes);
    this.#headerCodec = new PayloadCodec(
      deps.payloads,
      Math.min(HEADER_INPUT_INLINE_BYTES, this.#codec.threshold),
    );
    this.#log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  }

  get codec(): PayloadCodec {
    return this.#codec;
  }

  // -------------------------------------------------------------------------
  // Entry points

  /**
   * Starts an execution of the app's current `workflow`, idempotent on `id`: a
   * second start with the same id returns the first (and re-sends its first
   * messages if they were never sent).
   */
  async startExecution(
    workflow: string,
    input: JsonValue,
    options: { id?: string; tenant?: string } = {},
  ): Promise<{ executionId: string; created: boolean; record: ThreadRecord }> {
    const { definitions, store, clock } = this.#deps;
    const current = definitions.current(workflow);
    if (!this.#persisted.has(current.hash)) {
      await definitions.persist(workflow);
      this.#persisted.add(current.hash);
    }
    if (options.id !== undefined && !EXECUTION_ID_PATTERN.test(options.id)) {
      throw new StartError(
        "INVALID_ID",
        `'${options.id}' is not a valid execution id: 1-128 letters, digits, _ . : -`,
      );
    }
    if (current.definition.inputSchema) {
      const problems = checkInput(current.definition.inputSchema, input);
      if (problems.length > 0) {
        throw new StartError(
          "INVALID_INPUT",
          `the input does not match ${workflow}'s input_schema`,
          problems,
        );
      }
    }
    const now = clock.now();
    const executionId = options.id ?? randomUUID();
    const header: ExecutionHeader = {
      tenant: options.tenant ?? "default",
      executionId,
      app: this.#options.app,
      workflow,
      definitionHash: current.hash,
      startedAt: now,
      input: await this.#headerCodec.store(input, executionId),
    };
    const step = startExecution(current.definition, this.#context(header, input), now);
    const mid = `start:${executionId}`;
    const { record, live, events, effects } = await this.#prepare(header, step, 1, mid);
    // Joins are written after the execution: a retry with other input never leaves a stale one.
    const result = await store.createExecution(
      record,
      this.#expiry(step.thread.status !== "running"),
    );
    if (!result.created) {
      const existingInput = await this.#headerCodec.load(result.existing.header.input);
      if (
        result.existing.header.workflow !== workflow ||
        JSON.stringify(existingInput) !== JSON.stringify(input)
      ) {
        throw new StartError(
          "ID_CONFLICT",
          `execution '${executionId}' already exists with another workflow or input`,
        );
      }
      const existing = result.existing;
      if (existing.version === 1 && existing.causedBy === mid) {
        // The first start may have stopped before its joins and messages: the first step is
        // deterministic from the same input and definition, so finish its work (idempotently).
        if (existing.header.definitionHash === header.definitionHash) {
          for (const join of effects.joins)
            await store.putJoin(withParent({ ...join, header: existing.header }, existing), 0);
        }
        const invocation = newInvocation();
        await this.#dispatch(outboxOf(existing), invocation);
        await this.#flush(invocation);
      }
      return { executionId, created: false, record: existing };
    }
    for (const join of effects.joins) await store.putJoin(withParent(join, record), 0);
    this.#emitMetric(header, {
      name: "WorkflowStarted",
      value: 1,
      unit: "Count",
      dimensions: { workflow },
    });
    const invocation = newInvocation();
    await this.#afterCommit(header, events, effects, live, invocation);
    await this.#flush(invocation);
    return { executionId, created: true, record };
  }

  /**
   * Handles one queued message. Throws when it must be redelivered. With `batch`
   * (from `startBatch`), its history is kept for one append per batch (`finishBatch`).
   */
  async handle(envelope: Envelope, receiveCount = 1, batch?: Invocation): Promise<Invocation> {
    const invocation = batch ?? newInvocation();
    const now = this.#deps.clock.now();
    if (envelope.notBefore !== undefined && envelope.notBefore > now + 1_000) {
      // A timer longer than SQS allows: send it on for the rest of its delay.
      invocation.outgoing.push(envelope);
    } else {
      if (envelope.sentAt !== undefined && receiveCount === 1) {
        invocation.latencies.push(
          Math.max(0, now - Math.max(envelope.sentAt, envelope.notBefore ?? 0)),
        );
      }
      await this.#process(envelope.mid, envelope.body, receiveCount, invocation);
    }
    if (!batch) await this.#flush(invocation);
    return invocation;
  }

  /** A redelivered message's transition is committed: finish what it began, then send what it caused. */
  async #resend(record: ThreadRecord, invocation: Invocation): Promise<void> {
    if (record.consumed) {
      await this.#deps.store.deleteBufferedEvent(
        record.header,
        record.consumed.event,
        record.consumed.key,
      );
    }
    await this.#dispatch(outboxOf(record), invocation);
  }

  /**
   * Starts a batch: the messages handled with it append their history together,
   * and their reports to a join are applied together, in one write per join.
   */
  startBatch(): Invocation {
    return { history: [], outgoing: [], latencies: [], joins: new Map() };
  }

  /**
   * Applies a batch's join reports (one conditional write per join, whatever the
   * number of branches that reported in this batch) and carries out what they
   * cause, sends every message the batch caused (10 per request, across
   * executions), then appends the batch's history (25 events per request).
   * @returns the reports whose join could not be written (the messages that caused
   * them, whose ids are prefixes of theirs, must be redelivered), and a history error.
   * @throws when sending fails: no message of the batch may then be deleted.
   */
  async finishBatch(batch: Invocation): Promise<{
    unwritten: { mid: string; error: unknown }[];
    historyError?: unknown;
  }> {
    const unwritten: { mid: string; error: unknown }[] = [];
    const joins = batch.joins;
    // Completing a join continues its parent, which may finish a branch of an outer join: rounds.
    while (joins && joins.size > 0) {
      const pending = [...joins.values()];
      joins.clear();
      await Promise.all(
        pending.map(async ({ header, joinId, reports }) => {
          try {
            await this.#applyJoinReports(header, joinId, reports, batch);
          } catch (error) {
            unwritten.push(...reports.map((r) => ({ mid: r.mid, error })));
          }
        }),
      );
    }
    // Throws when a message could not be sent: then no message of the batch may be deleted.
    await this.#sendOutgoing(batch);
    this.#emitLatencies(batch);
    try {
      await this.#appendHistory(batch);
      return { unwritten };
    } catch (historyError) {
      // History is observability, not state: a failed append loses events, never a transition.
      return { unwritten, historyError };
    }
  }

  /** Asks an execution to stop. @returns false when it is not running. */
  async cancel(tenant: string, executionId: string, reason: string): Promise<boolean> {
    const view = await this.#deps.store.getExecution(tenant, executionId);
    if (view?.thread.status !== "running") return false;
    const invocation = newInvocation();
    await this.#applyEvent(
      view.header,
      ROOT_THREAD,
      { type: "CancelRequested", reason },
      `cancel:${executionId}`,
      undefined,
      invocation,
    );
    await this.#flush(invocation);
    return true;
  }

  /**
   * Sends an external event to an execution. It is kept until a state waits for
   * it, and delivered to at most one waiting state.
   * @returns false when the execution does not exist or has ended.
   */
  async signal(
    tenant: string,
    executionId: string,
    event: string,
    payload: JsonValue,
    id: string = randomUUID(),
  ): Promise<boolean> {
    const { store } = this.#deps;
    const view = await store.getExecution(tenant, executionId);
    if (view?.thread.status !== "running") return false;
    const stored = await this.#codec.store(payload, executionId);
    const order = `${String(this.#deps.clock.now()).padStart(13, "0")}-${id}`;
    // A retry with the same id is refused by the buffer (even once consumed): one event per id.
    // Delivery is tried either way, in case the first attempt stopped before it.
    await store.bufferEvent(
      view.header,
      event,
      id,
      order,
      stored,
      this.#runningExpiry(view.header),
    );
    const waiting = [view, ...(await store.branchThreads(view.header))].filter(
      (r) =>
        r.thread.status === "running" &&
        r.thread.waiting?.kind === "event" &&
        r.thread.waiting.event === event,
    );
    const invocation = newInvocation();
    for (const record of waiting) {
      await this.#process(
        `signal:${id}:${record.thread.id}`,
        { kind: "take-event", header: view.header, thread: record.thread.id, event },
        1,
        invocation,
      );
    }
    await this.#flush(invocation);
    return true;
  }

  /** A message that kept failing reached the dead-letter queue: fail its execution with a readable reason. */
  async deadLetter(envelope: Envelope): Promise<void> {
    const header = envelope.body.header;
    const last = await this.#deps.store.lastFailure(header);
    const error: WorkflowError = {
      name: "Cascade.RuntimeFailure",
      message: `a ${envelope.body.kind} message of this execution failed repeatedly and was dead-lettered${last ? `: ${last}` : ""}`,
    };
    const invocation = newInvocation();
    await this.#applyEvent(
      header,
      ROOT_THREAD,
      { type: "Aborted", error },
      `dlq:${envelope.mid}`,
      undefined,
      invocation,
    );
    await this.#flush(invocation);
  }

  /** Records why a message failed, for `deadLetter` to report. */
  async noteFailure(envelope: Envelope, error: unknown): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    await this.#deps.store.noteFailure(
      envelope.body.header,
      reason.slice(0, 1_000),
      this.#runningExpiry(envelope.body.header),
    );
  }

  // -------------------------------------------------------------------------
  // Message processing

  async #process(
    mid: string,
    body: WireMessage,
    receiveCount: number,
    invocation: Invocation,
  ): Promise<void> {
    switch (body.kind) {
      case "run":
        return this.#run(mid, body, receiveCount, invocation);
      case "event":
        await this.#applyEvent(
          body.header,
          body.thread,
          await this.#loadEvent(body.event),
          mid,
          undefined,
          invocation,
        );
        return;
      case "branch":
        return this.#startBranch(mid, body, invocation);
      case "finished":
        return this.#finished(mid, body, invocation);
      case "cancel-join":
        return this.#cancelJoin(mid, body.header, body.joinId, invocation);
      case "join-complete":
        return this.#joinComplete(mid, body, invocation);
      case "start-branches": {
        // Re-sent from a thread's stored outbox: rebuild the branch messages from the join.
        const join = await this.#deps.store.getJoin(body.header, body.joinId);
        if (!join)
          throw new RuntimeError(
            "MISSING_RECORD",
            `join ${body.joinId} of ${body.header.executionId} does not exist`,
          );
        const commands: Command[] = [
          { type: "StartBranches", joinId: body.joinId, indexes: body.indexes },
        ];
        await this.#dispatch(await this.#joinMessages(join, commands, body.cause), invocation);
        return;
      }
      case "take-event": {
        // Deliver a buffered event only to a thread that waits for it now, at that very step.
        // The event is deleted after the commit that consumed it, never before.
        const record = await this.#deps.store.getThread(body.header, body.thread);
        if (record && committedBy(record.causedBy, mid)) {
          await this.#resend(record, invocation);
          return;
        }
        const waiting = record?.thread.waiting;
        if (
          record?.thread.status !== "running" ||
          waiting?.kind !== "event" ||
          waiting.event !== body.event
        )
          return;
        const head = await this.#deps.store.peekBufferedEvent(body.header, body.event);
        if (head === undefined) return;
        const event: ThreadEvent = {
          type: "EventReceived",
          event: body.event,
          payload: await this.#codec.load(head.payload),
          token: { thread: body.thread, step: record.thread.step },
        };
        await this.#applyEvent(
          body.header,
          body.thread,
          event,
          mid,
          { thread: record.thread, version: record.version },
          invocation,
          { event: body.event, key: head.key },
        );
        return;
      }
      case "work": {
        const outcome = await this.#attempt(body.header, body, await this.#codec.load(body.input));
        const event: StoredEvent =
          "ok" in outcome
            ? {
                type: "ActivitySucceeded",
                token: body.token,
                output: await this.#codec.store(outcome.ok, body.header.executionId),
              }
            : { type: "ActivityFailed", token: body.token, error: outcome.error };
        invocation.outgoing.push({
          mid: `${mid}/result`,
          queue: TRANSITIONS,
          body: { kind: "event", header: body.header, thread: body.token.thread, event },
        });
        return;
      }
      default: {
        const unreachable: never = body;
        throw new RuntimeError(
          "BAD_MESSAGE",
          `unknown message kind ${JSON.stringify(unreachable)}`,
        );
      }
    }
  }

  async #run(
    mid: string,
    body: Extract<WireMessage, { kind: "run" }>,
    receiveCount: number,
    invocation: Invocation,
  ): Promise<void> {
    let carried: { thread: StoredThread; version: number } | undefined = body.thread
      ? { thread: body.thread, version: body.version }
      : undefined;
    if (receiveCount > 1) {
      // A redelivery: if its transition is committed, re-send what it caused instead of running the activity again.
      const current = await this.#deps.store.getThread(body.header, body.token.thread);
      if (current && committedBy(current.causedBy, mid)) {
        await this.#resend(current, invocation);
        return;
      }
      if (current) {
        const t = current.thread;
        const waiting =
          t.status === "running" &&
          t.waiting?.kind === "activity" &&
          t.step === body.token.step &&
          t.attempt === body.token.attempt;
        if (!waiting) return;
        carried = { thread: current.thread, version: current.version };
      }
    }
    const outcome = await this.#attempt(body.header, body, await this.#codec.load(body.input));
    const event: ThreadEvent =
      "ok" in outcome
        ? { type: "ActivitySucceeded", token: body.token, output: outcome.ok }
        : { type: "ActivityFailed", token: body.token, error: outcome.error };
    await this.#applyEvent(body.header, body.token.thread, event, mid, carried, invocation);
  }

  async #attempt(
    header: ExecutionHeader,
    body: AttemptBody,
    input: JsonValue,
  ): Promise<{ ok: JsonValue } | { error: WorkflowError }> {
    const cacheKey = body.cache && this.#deps.cache ? resultCacheKey(header, body) : undefined;
    if (cacheKey !== undefined) {
      const hit = await this.#cacheGet(header, body.activity, cacheKey);
      if (hit !== undefined) return { ok: hit };
    }
    const outcome = await this.#runAttempt(header, body, input);
    if (cacheKey !== undefined && body.cache && "ok" in outcome) {
      await this.#cacheSet(header, body.activity, cacheKey, outcome.ok, body.cache.ttlMs);
    }
    return outcome;
  }

  /** A cached result; any cache failure is a miss (the cache only saves work). */
  async #cacheGet(
    header: ExecutionHeader,
    activity: string,
    key: string,
  ): Promise<JsonValue | undefined> {
    let value: JsonValue | undefined;
    try {
      const text = await this.#deps.cache?.get(key);
      value = text === undefined ? undefined : (JSON.parse(text) as JsonValue);
    } catch (error) {
      this.#log(
        JSON.stringify({ level: "warn", message: "cache read failed", error: String(error) }),
      );
    }
    this.#emitMetric(header, {
      name: value === undefined ? "CacheMisses" : "CacheHits",
      value: 1,
      unit: "Count",
      dimensions: { workflow: header.workflow, activity },
    });
    return value;
  }

  async #cacheSet(
    header: ExecutionHeader,
    activity: string,
    key: string,
    value: JsonValue,
    ttlMs: number,
  ): Promise<void> {
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text) > MAX_CACHED_RESULT_BYTES) return;
    try {
      await this.#deps.cache?.set(key, text, ttlMs);
    } catch (error) {
      this.#log(
        JSON.stringify({
          level: "warn",
          message: "cache write failed",
          activity,
          execution: header.executionId,
          error: String(error),
        }),
      );
    }
  }

  async #runAttempt(
    header: ExecutionHeader,
    body: AttemptBody,
    input: JsonValue,
  ): Promise<{ ok: JsonValue } | { error: WorkflowError }> {
    const controller = new AbortController();
    const key = runningKey(header, body.token.thread);
    this.#running.set(key, controller);
    const started = performance.now();
    let failed = true;
    try {
      const outcome = await runActivity(this.#deps.activities.get(body.activity), input, {
        idempotencyKey: body.idempotencyKey,
        attempt: body.token.attempt,
        executionId: header.executionId,
        workflow: header.workflow,
        state: body.state,
        activity: body.activity,
        ...(body.timeoutMs === undefined ? {} : { timeoutMs: body.timeoutMs }),
        ...(body.heartbeatMs === undefined ? {} : { heartbeatMs: body.heartbeatMs }),
        log: this.#log,
        signal: controller.signal,
      });
      failed = !("ok" in outcome);
      return outcome;
    } finally {
      this.#running.delete(key);
      const dimensions = { workflow: header.workflow, activity: body.activity };
      this.#emitMetric(
        header,
        {
          name: "ActivityDuration",
          value: Math.round(performance.now() - started),
          unit: "Milliseconds",
          dimensions,
        },
        { name: "ActivityErrors", value: failed ? 1 : 0, unit: "Count", dimensions },
      );
    }
  }

  /**
   * Applies an event to a thread: from the snapshot the message carried (no read),
   * else from the stored record; commits with a conditional write; on a conflict,
   * re-reads and tries again.
   */
  async #applyEvent(
    header: ExecutionHeader,
    threadId: string,
    event: ThreadEvent,
    mid: string,
    carried: { thread: StoredThread; version: number } | undefined,
    invocation: Invocation,
    consumed?: { event: string; key: string },
  ): Promise<boolean> {
    const definition = await this.#deps.definitions.byHash(header.definitionHash);
    const context = this.#context(header, await this.#headerCodec.load(header.input));
    let snapshot = carried;
    return this.#untilCommitted(`thread ${threadId} of ${header.executionId}`, async () => {
      if (!snapshot) {
        const record = await this.#deps.store.getThread(header, threadId);
        if (!record) {
          if (event.type !== "CancelRequested" && event.type !== "Aborted") {
            throw new RuntimeError(
              "MISSING_RECORD",
              `thread ${threadId} of ${header.executionId} does not exist (yet)`,
            );
          }
          // A branch with no record yet (its first run is queued): leave a cancelled record,
          // so that run's first commit finds it and stops instead of carrying on.
          if (threadId === ROOT_THREAD) return { value: false };
          const written = await this.#deps.store.putThread(
            tombstone(header, threadId, event, mid, this.#deps.clock.now()),
            0,
          );
          return written ? { value: true } : CONFLICT;
        }
        if (committedBy(record.causedBy, mid)) {
          await this.#resend(record, invocation);
          return { value: true };
        }
        snapshot = { thread: record.thread, version: record.version };
      }
      const thread = await this.#loadThread(snapshot.thread);
      const step = applyThreadEvent(definition, context, thread, event, this.#deps.clock.now());
      if (!step.changed) return { value: false };
      if (await this.#commitThread(header, step, snapshot.version, mid, invocation, consumed)) {
        return { value: true };
      }
      snapshot = undefined;
      return CONFLICT;
    });
  }

  /**
   * Runs `attempt` until it settles, backing off between lost conditional writes.
   * @throws RuntimeError CONFLICT after MAX_CONFLICT_RETRIES: the message is redelivered.
   */
  async #untilCommitted<T>(
    what: string,
    attempt: () => Promise<{ value: T } | typeof CONFLICT>,
  ): Promise<T> {
    for (let n = 0; n < MAX_CONFLICT_RETRIES; n++) {
      const outcome = await attempt();
      if (outcome !== CONFLICT) return outcome.value;
      await this.#backoff(n);
    }
    throw new RuntimeError("CONFLICT", `${what} kept changing under us`);
  }

  async #startBranch(
    mid: string,
    body: Extract<WireMessage, { kind: "branch" }>,
    invocation: Invocation,
  ): Promise<void> {
    const { header } = body;
    const definition = await this.#deps.definitions.byHash(header.definitionHash);
    const context = this.#context(header, await this.#headerCodec.load(header.input));
    const input = await this.#codec.load(body.input);
    const spec: BranchSpec = {
      id: branchThreadId(body.joinId, body.index),
      flow: body.flow,
      parent: { joinId: body.joinId, index: body.index },
      input,
      ...(body.mapIndex === undefined ? {} : { map: { index: body.mapIndex, item: input } }),
    };
    const now = this.#deps.clock.now();
    const step = startBranch(definition, context, spec, now);
    // A branch that starts by running an activity needs no record yet: the run
    // message carries its state, and its first commit creates the record.
    const lazy = await this.#prepare(header, step, 0, mid);
    if (lazy.live.length > 0 && lazy.live.every((m) => m.body.kind === "run")) {
      await this.#afterCommit(header, lazy.events, lazy.effects, lazy.live, invocation);
      return;
    }
    if (await this.#commitThread(header, step, 0, mid, invocation)) return;
    const existing = await this.#deps.store.getThread(header, spec.id);
    if (existing && committedBy(existing.causedBy, mid)) await this.#resend(existing, invocation);
  }

  async #finished(
    mid: string,
    body: Extract<WireMessage, { kind: "finished" }>,
    invocation: Invocation,
  ): Promise<void> {
    const output =
      body.output === undefined ? undefined : { index: body.index, value: body.output };
    await this.#updateJoin(body.header, body.joinId, mid, invocation, output, (join) =>
      applyBranchFinished(join, {
        joinId: body.joinId,
        index: body.index,
        status: body.status,
        ...(body.error === undefined ? {} : { error: body.error }),
      }),
    );
  }

  async #cancelJoin(
    mid: string,
    header: ExecutionHeader,
    joinId: string,
    invocation: Invocation,
  ): Promise<void> {
    await this.#updateJoin(header, joinId, mid, invocation, undefined, cancelJoin);
  }

  async #updateJoin(
    header: ExecutionHeader,
    joinId: string,
    mid: string,
    invocation: Invocation,
    output: { index: number; value: JsonValue } | undefined,
    apply: (join: JoinState) => JoinStep,
  ): Promise<void> {
    const report: JoinReport = { mid, output, apply };
    if (invocation.joins) {
      // In a batch: applied with the batch's other reports to this join, in one write.
      const key = `${header.tenant}/${header.executionId}/${joinId}`;
      const entry = invocation.joins.get(key);
      if (entry) entry.reports.push(report);
      else invocation.joins.set(key, { header, joinId, reports: [report] });
      return;
    }
    await this.#applyJoinReports(header, joinId, [report], invocation);
  }

  /** Applies reports to a join in order, commits them with one conditional write, and carries out what they cause. */
  async #applyJoinReports(
    header: ExecutionHeader,
    joinId: string,
    reports: readonly JoinReport[],
    invocation: Invocation,
  ): Promise<void> {
    const { store } = this.#deps;
    await this.#untilCommitted(`join ${joinId} of ${header.executionId}`, async () => {
      const record = await store.getJoin(header, joinId);
      if (!record) {
        throw new RuntimeError(
          "MISSING_RECORD",
          `join ${joinId} of ${header.executionId} does not exist (yet)`,
        );
      }
      let join = record.join;
      let starts = [...record.starts];
      let closedBy = record.closedBy;
      let outputs = record.outputs;
      let causedBy = record.causedBy;
      const caused: { mid: string; commands: readonly Command[] }[] = [];
      let changed = false;
      for (const report of reports) {
        const step = report.apply(join);
        if (!step.changed) {
          // A redelivery: re-send what this very report caused, derived from the join.
          const mine = starts.filter((s) => s.mid === report.mid).flatMap((s) => s.indexes);
          const commands: Command[] =
            mine.length > 0 ? [{ type: "StartBranches", joinId, indexes: mine }] : [];
          if (closedBy === report.mid) commands.push(...closingCommands(join));
          if (commands.length > 0) caused.push({ mid: report.mid, commands });
          continue;
        }
        changed = true;
        const ended = new Set([...step.join.succeeded, ...step.join.failed]);
        starts = starts.filter((s) => s.indexes.some((i) => !ended.has(i)));
        for (const command of step.commands) {
          if (command.type === "StartBranches")
            starts.push({ mid: report.mid, indexes: command.indexes });
        }
        if (join.status === "open" && step.join.status !== "open") closedBy = report.mid;
        if (report.output)
          outputs = { ...outputs, [String(report.output.index)]: report.output.value };
        causedBy = report.mid;
        join = step.join;
        caused.push({ mid: report.mid, commands: step.commands });
      }
      const next: JoinRecord = {
        ...record,
        join,
        version: record.version + 1,
        causedBy,
        starts,
        ...(closedBy === undefined ? {} : { closedBy }),
        ...(outputs === undefined ? {} : { outputs }),
      };
      if (
        !changed ||
        (await store.putJoin(next, record.version, this.#expiry(join.status !== "open")))
      ) {
        const target = changed ? next : record;
        for (const { mid, commands } of caused)
          await this.#dispatch(await this.#joinMessages(target, commands, mid), invocation);
        return { value: undefined };
      }
      return CONFLICT;
    });
  }

  /** The messages of a join's commands; their ids depend only on the causing report, so re-sends dedupe. */
  async #joinMessages(
    record: JoinRecord,
    commands: readonly Command[],
    mid: string,
  ): Promise<OutMessage[]> {
    const out: OutMessage[] = [];
    const header = record.header;
    for (const command of commands) {
      if (command.type === "StartBranches") {
        const inputs = await this.#codec.load(record.inputs);
        for (const index of command.indexes) {
          out.push({
            mid: `${mid}/branch/${index}`,
            queue: TRANSITIONS,
            body: await this.#branchMessage(header, record.join, inputs, index),
          });
        }
      } else if (command.type === "CancelBranches") {
        for (const index of command.indexes) {
          out.push({
            mid: `${mid}/cancel/${index}`,
            queue: TRANSITIONS,
            body: {
              kind: "event",
              header,
              thread: branchThreadId(command.joinId, index),
              event: { type: "CancelRequested", reason: "the join no longer needs this branch" },
            },
          });
        }
      } else if (command.type === "CompleteJoin") {
        out.push({
          mid: `${mid}/complete`,
          queue: TRANSITIONS,
          body: {
            kind: "join-complete",
            header,
            joinId: command.joinId,
            parent: command.parent,
            outcome: withOutputs(command.outcome, record.outputs),
            ...(record.parent ? { parentSnapshot: record.parent } : {}),
          },
        });
      }
    }
    return out;
  }

  async #branchMessage(
    header: ExecutionHeader,
    join: JoinState,
    inputs: JsonValue,
    index: number,
  ): Promise<WireMessage> {
    const spec = branchSpecFor(
      join,
      join.kind === "map"
        ? { kind: "items", items: inputs as JsonValue[] }
        : { kind: "shared", value: inputs },
      index,
    );
    return {
      kind: "branch",
      header,
      joinId: join.id,
      index,
      flow: spec.flow,
      input: await this.#codec.store(spec.input, header.executionId),
      ...(spec.map ? { mapIndex: spec.map.index } : {}),
    };
  }

  async #joinComplete(
    mid: string,
    body: Extract<WireMessage, { kind: "join-complete" }>,
    invocation: Invocation,
  ): Promise<void> {
    let event: ThreadEvent;
    if (body.outcome.status === "succeeded") {
      const missing = body.outcome.branches.some(
        (b) => b.status === "succeeded" && b.output === undefined,
      );
      const threads = missing ? await this.#deps.store.joinThreads(body.header, body.joinId) : [];
      const byId = new Map(threads.map((t) => [t.thread.id, t]));
      const branches: BranchResult[] = [];
      for (const branch of body.outcome.branches) {
        const record = byId.get(branchThreadId(body.joinId, branch.index));
        if (branch.status === "succeeded" && branch.output === undefined && record) {
          branches.push({ ...branch, output: await this.#codec.load(record.thread.data) });
        } else {
          branches.push(branch);
        }
      }
      event = {
        type: "JoinCompleted",
        token: body.parent,
        outcome: { status: "succeeded", branches },
      };
    } else {
      event = { type: "JoinCompleted", token: body.parent, outcome: body.outcome };
    }
    await this.#applyEvent(
      body.header,
      body.parent.thread,
      event,
      mid,
      body.parentSnapshot,
      invocation,
    );
  }

  // -------------------------------------------------------------------------
  // Committing a thread step

  /** Commits a step of a thread; false on a version conflict. */
  async #commitThread(
    header: ExecutionHeader,
    step: ThreadStep,
    expected: number,
    mid: string,
    invocation: Invocation,
    consumed?: { event: string; key: string },
  ): Promise<boolean> {
    const prepared = await this.#prepare(header, step, expected + 1, mid);
    const { live, events, effects } = prepared;
    const record: ThreadRecord = consumed ? { ...prepared.record, consumed } : prepared.record;
    for (const join of effects.joins) {
      await this.#deps.store.putJoin(withParent(join, record), 0, undefined);
    }
    if (expected === 0 && endsWithoutRecord(step.thread, record.outbox)) {
      // A branch that ends in its first commit, with its output (if any) carried to the
      // join: the join's conditional write is its commit; it needs no record of its own.
      await this.#afterCommit(header, events, effects, live, invocation);
      return true;
    }
    if (
      !(await this.#deps.store.putThread(
        record,
        expected,
        step.thread.id === ROOT_THREAD
          ? this.#expiry(step.thread.status !== "running")
          : this.#runningExpiry(header),
      ))
    ) {
      return false;
    }
    if (consumed) await this.#deps.store.deleteBufferedEvent(header, consumed.event, consumed.key);
    await this.#afterCommit(header, events, effects, live, invocation);
    return true;
  }

  /** Turns a step into the record to write, the history to append, and the messages it causes. */
  async #prepare(header: ExecutionHeader, step: ThreadStep, version: number, mid: string) {
    const events: HistoryEvent[] = [];
    const metrics: Metric[] = [];
    const joins: JoinRecord[] = [];
    const cancels: string[] = [];
    const outbox: OutMessage[] = [];
    const compact: OutMessage[] = [];
    const thread = await this.#storeThread(step.thread, header.executionId);
    const id = () => `${mid}/${outbox.length}`;
    const inlineTokens = new Set<string>();
    for (const command of step.commands) {
      switch (command.type) {
        case "RecordHistory":
          events.push(...command.events);
          break;
        case "EmitMetric":
          metrics.push(command.metric);
          break;
        case "RunActivity": {
          let input = await this.#codec.store(command.input, header.executionId);
          if ("inline" in input && "inline" in thread.data) {
            const size =
              Buffer.byteLength(JSON.stringify(command.input)) +
              Buffer.byteLength(JSON.stringify(thread.data.inline));
            if (size > ENVELOPE_BUDGET_BYTES)
              input = await this.#codec.store(command.input, header.executionId, true);
          }
          const worker =
            command.region !== undefined && this.#options.workerRegions?.has(command.region);
          const base = {
            header,
            input,
            activity: command.activity,
            token: command.token,
            state: command.state,
            idempotencyKey: command.idempotencyKey,
            ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
            ...(command.cache === undefined ? {} : { cache: command.cache }),
          };
          if (worker) {
            outbox.push({
              mid: id(),
              queue: `worker:${command.region}`,
              ...(command.notBefore === undefined ? {} : { notBefore: command.notBefore }),
              body: { kind: "work", ...base },
            });
          } else {
            inlineTokens.add(
              `${command.token.thread}/${command.token.step}/${command.token.attempt}`,
            );
            outbox.push({
              mid: id(),
              queue: TRANSITIONS,
              ...(command.notBefore === undefined ? {} : { notBefore: command.notBefore }),
              body: {
                kind: "run",
                ...base,
                ...(command.heartbeatMs === undefined ? {} : { heartbeatMs: command.heartbeatMs }),
                version,
              },
            });
          }
          break;
        }
        case "ScheduleTimer": {
          const token = command.token;
          // Activities run here enforce their own timeout and heartbeat in-process.
          if (
            (command.purpose === "timeout" || command.purpose === "heartbeat") &&
            inlineTokens.has(`${token.thread}/${token.step}/${token.attempt ?? 1}`)
          ) {
            break;
          }
          outbox.push({
            mid: id(),
            queue: TRANSITIONS,
            notBefore: command.at,
            body: {
              kind: "event",
              header,
              thread: token.thread,
              event: {
                type: "TimerFired",
                token,
                purpose: command.purpose,
                ...(command.seq === undefined ? {} : { seq: command.seq }),
              },
            },
          });
          break;
        }
        case "AwaitEvent":
          outbox.push({
            mid: id(),
            queue: TRANSITIONS,
            body: {
              kind: "take-event",
              header,
              thread: command.token.thread,
              event: command.event,
            },
          });
          break;
        case "StartJoin": {
          const inputs =
            command.inputs.kind === "items"
              ? (command.inputs.items as JsonValue)
              : command.inputs.value;
          joins.push({
            header,
            join: command.join,
            inputs: await this.#codec.store(inputs, header.executionId),
            version: 1,
            causedBy: mid,
            starts: [],
          });
          break;
        }
        case "StartBranches": {
          const join = joins.find((j) => j.join.id === command.joinId);
          if (!join)
            throw new RuntimeError(
              "BAD_MESSAGE",
              `StartBranches for unknown join ${command.joinId}`,
            );
          const inputs = await this.#codec.load(join.inputs);
          for (const index of command.indexes) {
            outbox.push({
              mid: `${mid}/branch/${index}`,
              queue: TRANSITIONS,
              body: await this.#branchMessage(header, join.join, inputs, index),
            });
          }
          // Stored as one line: a fan-out of a thousand items must not fill the thread's item.
          compact.push({
            mid: `${mid}/branches`,
            queue: TRANSITIONS,
            body: {
              kind: "start-branches",
              header,
              joinId: command.joinId,
              indexes: [...command.indexes],
              cause: mid,
            },
          });
          break;
        }
        case "CancelJoin":
          outbox.push({
            mid: id(),
            queue: TRANSITIONS,
            body: { kind: "cancel-join", header, joinId: command.joinId },
          });
          break;
        case "CancelBranches":
          for (const index of command.indexes) {
            outbox.push({
              mid: id(),
              queue: TRANSITIONS,
              body: {
                kind: "event",
                header,
                thread: branchThreadId(command.joinId, index),
                event: { type: "CancelRequested", reason: "cancelled" },
              },
            });
          }
          break;
        case "FinishBranch": {
          const output =
            command.branch.status === "succeeded" ? smallBranchOutput(step.thread) : undefined;
          outbox.push({
            mid: id(),
            queue: TRANSITIONS,
            body: {
              kind: "finished",
              header,
              joinId: command.branch.joinId,
              index: command.branch.index,
              status: command.branch.status,
              ...(command.branch.error === undefined ? {} : { error: command.branch.error }),
              ...(output === undefined ? {} : { output }),
            },
          });
          break;
        }
        case "CancelActivity":
          cancels.push(runningKey(header, command.token.thread));
          break;
        case "CompleteJoin":
        case "CompleteExecution":
        case "FailExecution":
        case "CancelExecution":
          // The root thread's record is the execution: its status and output are in the commit itself.
          break;
        default: {
          const unreachable: never = command;
          throw new RuntimeError("BAD_MESSAGE", `unknown command ${JSON.stringify(unreachable)}`);
        }
      }
    }
    const stored = [...outbox.filter((m) => m.body.kind !== "branch"), ...compact];
    await this.#fit(header, thread, stored);
    const record: ThreadRecord = { header, thread, version, causedBy: mid, outbox: stored };
    const live = outboxOf({ ...record, outbox });
    return { record, live, events, effects: { joins, metrics, cancels } };
  }

  async #afterCommit(
    header: ExecutionHeader,
    events: readonly HistoryEvent[],
    effects: { metrics: readonly Metric[]; cancels: readonly string[] },
    outbox: readonly OutMessage[],
    invocation: Invocation,
  ): Promise<void> {
    for (const key of effects.cancels) this.#running.get(key)?.abort();
    if (events.length > 0) invocation.history.push({ header, events: [...events] });
    for (const metric of effects.metrics) this.#emitMetric(header, metric);
    await this.#dispatch(outbox, invocation);
  }

  /**
   * Sends messages; with `inline`, processes those bound for the transition queue
   * with no delay right here instead (they would come back to this same handler).
   */
  async #dispatch(outbox: readonly OutMessage[], invocation: Invocation): Promise<void> {
    const now = this.#deps.clock.now();
    const inline = this.#options.inline ?? true;
    const toSend: OutMessage[] = [];
    const here: OutMessage[] = [];
    for (const message of outbox) {
      const due = message.notBefore === undefined || message.notBefore <= now;
      const local = message.queue === TRANSITIONS && due && message.body.kind !== "run";
      (inline && local ? here : toSend).push(message);
    }
    // Sent together when the invocation (or the whole batch) is done, before any delete.
    invocation.outgoing.push(...toSend);
    for (const message of here) {
      await this.#process(message.mid, message.body, 1, invocation);
    }
  }

  async #backoff(attempt: number): Promise<void> {
    const ms = Math.random() * (this.#options.conflictBackoffMs ?? 10) * (attempt + 1);
    if (ms >= 1) await pause(ms);
  }

  /**
   * Keeps a thread record within its budget: when the outbox stored with it (inputs
   * of runs and branches) would make it too large, those inputs move to the payload
   * store, largest first. A Parallel of 50 branches on 100 KB of data would otherwise
   * put 5 MB in one item.
   */
  async #fit(header: ExecutionHeader, thread: StoredThread, outbox: OutMessage[]): Promise<void> {
    let size =
      Buffer.byteLength(JSON.stringify(thread)) + Buffer.byteLength(JSON.stringify(outbox));
    if (size <= ENVELOPE_BUDGET_BYTES) return;
    const order = outbox
      .map((message, index) => ({
        index,
        input: "input" in message.body ? message.body.input : undefined,
      }))
      .filter(
        (e): e is { index: number; input: Stored } => e.input !== undefined && "inline" in e.input,
      )
      .sort((a, b) => JSON.stringify(b.input).length - JSON.stringify(a.input).length);
    for (const { index, input } of order) {
      if (size <= ENVELOPE_BUDGET_BYTES || !("inline" in input)) break;
      const message = outbox[index];
      if (!message) continue;
      const before = Buffer.byteLength(JSON.stringify(input));
      const stored = await this.#codec.store(input.inline, header.executionId, true);
      outbox[index] = { ...message, body: { ...message.body, input: stored } as WireMessage };
      size -= before - Buffer.byteLength(JSON.stringify(stored));
    }
  }

  /** Sends the invocation's messages (batched), then appends its history. */
  async #flush(invocation: Invocation): Promise<void> {
    await this.#sendOutgoing(invocation);
    this.#emitLatencies(invocation);
    await this.#appendHistory(invocation);
  }

  async #sendOutgoing(invocation: Invocation): Promise<void> {
    const messages = invocation.outgoing.splice(0);
    if (messages.length === 0) return;
    const now = this.#deps.clock.now();
    await this.#deps.queue.send(
      messages.map((m) => ({ ...m, sentAt: now })),
      now,
    );
  }

  /**
   * TransitionLatency: from a message's send (or its due time) to its handling, in ms.
   * One EMF line per batch, its values as an array (CloudWatch takes percentiles of them).
   */
  #emitLatencies(invocation: Invocation): void {
    const values = invocation.latencies.splice(0);
    if (values.length === 0) return;
    this.#log(
      JSON.stringify({
        _aws: {
          Timestamp: this.#deps.clock.now(),
          CloudWatchMetrics: [
            {
              Namespace: "Cascade",
              Dimensions: [["app"]],
              Metrics: [{ Name: "TransitionLatency", Unit: "Milliseconds" }],
            },
          ],
        },
        app: this.#options.app,
        TransitionLatency: values,
      }),
    );
  }

  /** Appends the invocation's history: one request per 25 events, across executions. */
  async #appendHistory(invocation: Invocation): Promise<void> {
    const byExecution = new Map<string, { header: ExecutionHeader; events: HistoryEvent[] }>();
    for (const entry of invocation.history.splice(0)) {
      const key = `${entry.header.tenant}/${entry.header.executionId}`;
      const group = byExecution.get(key) ?? { header: entry.header, events: [] };
      group.events.push(...entry.events);
      byExecution.set(key, group);
    }
    if (byExecution.size === 0) return;
    const entries = [];
    for (const { header, events } of byExecution.values()) {
      entries.push({
        header,
        events: await this.#storeHistory(header, events),
        expiresAt: this.#runningExpiry(header),
      });
    }
    await this.#deps.store.appendHistories(entries);
  }

  // -------------------------------------------------------------------------
  // Helpers

  #context(header: ExecutionHeader, input: JsonValue): ExecutionContext {
    return {
      executionId: header.executionId,
      workflowName: header.workflow,
      input,
      startTime: header.startedAt,
    };
  }

  async #storeThread(thread: ThreadState, executionId: string): Promise<StoredThread> {
    return { ...thread, data: await this.#codec.store(thread.data, executionId) };
  }

  async #loadThread(thread: StoredThread): Promise<ThreadState> {
    return { ...thread, data: await this.#codec.load(thread.data) };
  }

  async #loadEvent(event: StoredEvent): Promise<ThreadEvent> {
    switch (event.type) {
      case "ActivitySucceeded":
        return { ...event, output: await this.#codec.load(event.output) };
      case "EventReceived":
        return { ...event, payload: await this.#codec.load(event.payload) };
      default:
        return event;
    }
  }

  /** History events carry inputs and outputs; large ones are replaced by a reference. */
  async #storeHistory(
    header: ExecutionHeader,
    events: readonly HistoryEvent[],
  ): Promise<HistoryEvent[]> {
    const out: HistoryEvent[] = [];
    for (const event of events) {
      let next = event;
      for (const field of ["input", "output"] as const) {
        const value = next[field];
        if (value === undefined) continue;
        // A history item is billed per KB on every write: past a few KB a reference is
        // cheaper, and the payload is usually stored already (content-addressed).
        if (Buffer.byteLength(JSON.stringify(value)) <= HISTORY_INLINE_BYTES) continue;
        const stored: Stored = await this.#codec.store(value, header.executionId, true);
        if ("ref" in stored) next = { ...next, [field]: { $ref: stored.ref, bytes: stored.bytes } };
      }
      out.push(next);
    }
    return out;
  }

  /** The TTL of a record that has ended: now plus the retention. */
  #expiry(ended: boolean): number | undefined {
    if (!ended) return undefined;
    const days = this.#options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    return Math.floor(this.#deps.clock.now() / 1000) + days * 86_400;
  }

  /**
   * When an item written while its execution still runs (history, branch threads)
   * expires: the retention after the longest an execution can run, counted from its
   * start. An execution that outlives that keeps running; its oldest history goes.
   */
  #runningExpiry(header: ExecutionHeader): number {
    const days = this.#options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    return Math.floor((header.startedAt + MAX_DURATION_MS) / 1000) + days * 86_400;
  }

  /** One CloudWatch Embedded Metric Format line. */
  #emitMetric(header: ExecutionHeader, ...metrics: readonly Metric[]): void {
    // One EMF line for metrics that share their dimensions (a log line costs per byte).
    const first = metrics[0];
    if (!first) return;
    const dimensions = { app: header.app, ...first.dimensions };
    this.#log(
      JSON.stringify({
        _aws: {
          Timestamp: this.#deps.clock.now(),
          CloudWatchMetrics: [
            {
              Namespace: "Cascade",
              // Each metric also rolls up per app, for dashboards and alarms.
              Dimensions: [["app"], Object.keys(dimensions)],
              Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
            },
          ],
        },
        ...dimensions,
        ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
        execution: header.executionId,
      }),
    );
  }
}

/** Branch outputs up to this size travel in the `finished` report and live in the join. */
const SMALL_OUTPUT_BYTES = 1024;
/** Parallel branches past this index keep their output in their own record (the join item stays small). */
const MAX_BRANCHES_WITH_OUTPUTS_IN_JOIN = 64;

/** The output of a Parallel branch thread that ended, when small enough to travel with its report. */
function smallBranchOutput(thread: ThreadState): JsonValue | undefined {
  const last = thread.flow.at(-1);
  if (!thread.parent || last?.branch === undefined) return undefined;
  if (thread.parent.index >= MAX_BRANCHES_WITH_OUTPUTS_IN_JOIN) return undefined;
  return Buffer.byteLength(JSON.stringify(thread.data)) <= SMALL_OUTPUT_BYTES
    ? thread.data
    : undefined;
}

/** True for a branch that ended and whose report carries all its join needs. */
function endsWithoutRecord(thread: ThreadState, outbox: readonly OutMessage[]): boolean {
  if (!thread.parent || thread.status === "running") return false;
  const report = outbox.find((m) => m.body.kind === "finished");
  if (report?.body.kind !== "finished") return false;
  return report.body.status !== "succeeded" || report.body.output !== undefined;
}

/** A join's outcome with the outputs it holds. */
function withOutputs(outcome: JoinOutcome, outputs: JoinRecord["outputs"]): JoinOutcome {
  if (outcome.status !== "succeeded" || !outputs) return outcome;
  return {
    status: "succeeded",
    branches: outcome.branches.map((b) => {
      const output = outputs[String(b.index)];
      return b.status === "succeeded" && output !== undefined ? { ...b, output } : b;
    }),
  };
}

/**
 * True when a record's last transition was made by message `mid` or by a follow-up
 * of it (ids are `<cause>/<n>`): `mid` is committed, and the record's outbox is what
 * is left to send.
 */
/** A cancelled record for a branch that never wrote one, so its queued first run stops. */
function tombstone(
  header: ExecutionHeader,
  id: string,
  event: ThreadEvent,
  mid: string,
  now: number,
): ThreadRecord {
  const error =
    event.type === "Aborted"
      ? event.error
      : {
          name: ERRORS.CANCELLED,
          message: event.type === "CancelRequested" ? event.reason : "cancelled",
        };
  return {
    header,
    version: 1,
    causedBy: mid,
    outbox: [],
    thread: {
      id,
      flow: [],
      status: event.type === "Aborted" ? "failed" : "cancelled",
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

/** Identifies an activity running in this process: tenants may reuse execution ids. */
function runningKey(header: ExecutionHeader, thread: string): string {
  return `${header.tenant}\u0000${header.executionId}\u0000${thread}`;
}

/** A conditional write lost to another writer: read again and retry. */
const CONFLICT = Symbol("conflict");

/** What running one attempt of an activity needs: the fields `run` and `work` messages share. */
type AttemptBody = Pick<
  Extract<WireMessage, { kind: "run" }>,
  "activity" | "token" | "state" | "idempotencyKey" | "timeoutMs" | "heartbeatMs" | "cache"
>;

/** Results larger than this are not cached (a cache holds many small results). */
export const MAX_CACHED_RESULT_BYTES = 512 * 1024;

/**
 * Where a Task's result is cached: per tenant, app and activity, then the user's key
 * (hashed, so any key fits and no key reaches into another's namespace).
 */
export function resultCacheKey(
  header: ExecutionHeader,
  body: { activity: string; cache?: CachePolicy },
): string {
  const digest = createHash("sha256")
    .update(body.cache?.key ?? "")
    .digest("base64url");
  return `cascade:${header.tenant}:${header.app}:${body.activity}:${digest}`;
}

/** Snapshots of the waiting thread larger than this are not carried in its join (a read is cheaper than the bytes). */
export const PARENT_SNAPSHOT_BYTES = 8 * 1024;

/** The join with a snapshot of the thread that starts it, when small enough. */
function withParent(join: JoinRecord, parent: ThreadRecord): JoinRecord {
  const snapshot = { thread: parent.thread, version: parent.version };
  return Buffer.byteLength(JSON.stringify(snapshot)) <= PARENT_SNAPSHOT_BYTES
    ? { ...join, parent: snapshot }
    : join;
}

function committedBy(causedBy: string, mid: string): boolean {
  return causedBy === mid || causedBy.startsWith(`${mid}/`);
}

/** A record's outbox as sent: `run` messages carry the record's own thread again. */
function outboxOf(record: ThreadRecord): OutMessage[] {
  return record.outbox.map((message) =>
    message.body.kind === "run" && message.body.thread === undefined
      ? { ...message, body: { ...message.body, thread: record.thread, version: record.version } }
      : message,
  );
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
