/**
 * The interpreter for one thread: `(definition, context, thread, event, now) ->
 * (thread', commands)`. Pure and deterministic: no I/O, no clock, no ids, no
 * randomness beyond the seeded generator carried in the thread.
 *
 * One step runs until the thread must wait: control-flow states (Choice, Pass,
 * Succeed, Fail, a Wait already due) are evaluated in the same step as the state
 * before them, so they cost no message. A Task, a fan-out, a join and a real
 * wait are where the runtime hops.
 */
import type {
  Catcher,
  Definition,
  Flow,
  MapState,
  ParallelState,
  ResultTarget,
  State,
  TaskState,
} from "../cdl/index.ts";
import {
  type EvaluationContext,
  ExpressionError,
  evaluateTemplate,
  evaluateValue,
  getPath,
  isTruthy,
  type JsonValue,
  setPath,
  type Template,
} from "../expr/index.ts";
import { EngineError, resolveFlow, stateOf } from "./flow.ts";
import { type ResultLocation, resolveItemSource, resolveResultLocation } from "./items.ts";
import { nextRandom, seedFor } from "./random.ts";
import {
  type BranchInputs,
  type BranchResult,
  type Command,
  ERRORS,
  type ExecutionContext,
  type FlowRef,
  type HistoryEvent,
  type JoinState,
  type ThreadEvent,
  type ThreadState,
  type ThreadStep,
  type Token,
  type WorkflowError,
} from "./types.ts";

/** The root thread's id. */
export const ROOT_THREAD = "root";

/**
 * ISO-8601 date-times with an explicit zone (`Z` or an offset): parsing them does not
 * depend on the machine's time zone, so the engine stays deterministic.
 */
const ISO_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The longest retry delay, whatever the backoff: one year. */
const MAX_RETRY_DELAY_MS = 365 * 86_400_000;

/** Control-flow states one step may pass through before the thread is failed with Cascade.LoopLimit. */
export const MAX_INLINE_TRANSITIONS = 1_000;

/** How a branch or iteration thread starts. */
export interface BranchSpec {
  readonly id: string;
  readonly flow: FlowRef;
  readonly parent: { readonly joinId: string; readonly index: number };
  readonly input: JsonValue;
  readonly map?: { readonly index: number; readonly item: JsonValue };
}

/** The id of a join: the thread, the fan-out state and the step that entered it. */
export function joinIdFor(thread: string, state: string, step: number): string {
  return `${thread}/${state}@${step}`;
}

/** The id of the thread that runs branch or item `index` of a join. */
/** `BranchesJoined` lists the succeeded branches up to this many, else counts them. */
export const MAX_LISTED_BRANCHES = 256;

export function branchThreadId(joinId: string, index: number): string {
  return `${joinId}[${index}]`;
}

/** How item `index` of a Map starts, given the item (read from its page). */
export function mapItemSpec(join: JoinState, index: number, item: JsonValue): BranchSpec {
  return {
    id: branchThreadId(join.id, index),
    flow: [...join.parentFlow, { state: join.state }],
    parent: { joinId: join.id, index },
    input: item,
    map: { index, item },
  };
}

/** How branch or item `index` of a join starts: its thread id, flow, input and parent. */
export function branchSpecFor(join: JoinState, inputs: BranchInputs, index: number): BranchSpec {
  const id = branchThreadId(join.id, index);
  const parent = { joinId: join.id, index };
  if (inputs.kind === "pages")
    throw new EngineError(`the item of a paged Map is read by the runtime (mapItemSpec)`);
  if (inputs.kind === "items") {
    const item = inputs.items[index] ?? null;
    return {
      id,
      flow: [...join.parentFlow, { state: join.state }],
      parent,
      input: item,
      map: { index, item },
    };
  }
  return {
    id,
    flow: [...join.parentFlow, { state: join.state, branch: index }],
    parent,
    input: inputs.value,
    ...(join.parentMap ? { map: join.parentMap } : {}),
  };
}

/** Starts an execution: the root thread enters the first state. */
export function startExecution(
  definition: Definition,
  context: ExecutionContext,
  now: number,
  from?: StartFrom,
): ThreadStep {
  const thread: ThreadState = {
    id: ROOT_THREAD,
    flow: [],
    status: "running",
    current: definition.flow.startAt,
    step: 0,
    attempt: 1,
    enteredAt: now,
    data: context.input,
    rng: seedFor(`${context.executionId}/${ROOT_THREAD}`),
    transitions: 0,
    recorded: 0,
  };
  const run = new Run(definition, context, thread, now);
  run.history({
    type: "ExecutionStarted",
    input: context.input,
    ...(from?.detail === undefined ? {} : { detail: from.detail }),
  });
  if (definition.timeoutMs !== undefined) {
    run.commands.push({
      type: "ScheduleTimer",
      token: { thread: ROOT_THREAD, step: 0 },
      purpose: "workflow-timeout",
      at: now + definition.timeoutMs,
    });
  }
  run.advance(
    definition.flow,
    from?.state ?? definition.flow.startAt,
    from === undefined ? context.input : from.data,
  );
  return run.finish(true);
}

/**
 * Where a redriven execution starts: a root-level state of its definition, with the
 * data it enters it with (`workflow.input` stays the context's input).
 */
export interface StartFrom {
  readonly state: string;
  readonly data: JsonValue;
  /** Recorded in the `ExecutionStarted` event (`redriveOf`, `fromState`). */
  readonly detail?: { readonly [key: string]: JsonValue };
}

/** Starts a Parallel branch or a Map iteration. */
export function startBranch(
  definition: Definition,
  context: ExecutionContext,
  spec: BranchSpec,
  now: number,
): ThreadStep {
  const flow = resolveFlow(definition, spec.flow);
  const thread: ThreadState = {
    id: spec.id,
    flow: spec.flow,
    parent: spec.parent,
    ...(spec.map ? { map: spec.map } : {}),
    status: "running",
    current: flow.startAt,
    step: 0,
    attempt: 1,
    enteredAt: now,
    data: spec.input,
    rng: seedFor(`${context.executionId}/${spec.id}`),
    transitions: 0,
    recorded: 0,
  };
  const run = new Run(definition, context, thread, now);
  run.advance(flow, flow.startAt, spec.input);
  return run.finish(true);
}

/**
 * Applies one event to a thread. A stale event (for a token the thread has
 * moved past) or a duplicate returns the thread unchanged with no commands.
 */
export function applyThreadEvent(
  definition: Definition,
  context: ExecutionContext,
  thread: ThreadState,
  event: ThreadEvent,
  now: number,
): ThreadStep {
  const unchanged: ThreadStep = { thread, commands: [], changed: false };
  if (thread.status !== "running") return unchanged;
  const run = new Run(definition, context, thread, now);
  const flow = resolveFlow(definition, thread.flow);
  const state = stateOf(flow, thread.current);
  const waiting = thread.waiting;
  const current = (token: Token): boolean =>
    token.thread === thread.id && token.step === thread.step;
  const currentAttempt = (token: Token): boolean =>
    current(token) && waiting?.kind === "activity" && token.attempt === thread.attempt;

  switch (event.type) {
    case "ActivitySucceeded": {
      if (!currentAttempt(event.token) || state.type !== "Task") return unchanged;
      run.history({
        type: "ActivitySucceeded",
        state: state.name,
        attempt: thread.attempt,
        output: event.output,
        ...(event.cache === undefined ? {} : { detail: { cache: event.cache } }),
      });
      run.afterValue(flow, state, state.result, event.output);
      return run.finish(true);
    }
    case "ActivityFailed": {
      if (!currentAttempt(event.token) || state.type !== "Task") return unchanged;
      run.history({
        type: "ActivityFailed",
        state: state.name,
        attempt: thread.attempt,
        error: event.error,
        ...(event.cache === undefined ? {} : { detail: { cache: event.cache } }),
      });
      run.fail(flow, state, event.error);
      return run.finish(true);
    }
    case "ActivityHeartbeat": {
      if (!currentAttempt(event.token) || state.type !== "Task" || waiting?.kind !== "activity")
        return unchanged;
      if (state.heartbeatMs === undefined) return unchanged;
      const seq = waiting.heartbeatSeq + 1;
      run.thread = { ...run.thread, waiting: { kind: "activity", heartbeatSeq: seq } };
      run.commands.push({
        type: "ScheduleTimer",
        token: event.token,
        purpose: "heartbeat",
        at: now + state.heartbeatMs,
        seq,
      });
      return run.finish(false);
    }
    case "TimerFired":
      return onTimer(run, flow, state, event, unchanged);
    case "EventReceived": {
      if (
        waiting?.kind !== "event" ||
        waiting.event !== event.event ||
        state.type !== "WaitForEvent"
      )
        return unchanged;
      if (event.token && !current(event.token)) return unchanged;
      run.history({
        type: "EventReceived",
        state: state.name,
        output: event.payload,
        detail: { event: event.event },
      });
      run.afterValue(flow, state, state.result, event.payload);
      return run.finish(true);
    }
    case "ItemsRead": {
      if (!current(event.token) || waiting?.kind !== "items" || state.type !== "Map")
        return unchanged;
      if (event.error || !event.pages) {
        run.fail(
          flow,
          state,
          event.error ?? { name: ERRORS.ITEM_READER_FAILED, message: "no items" },
        );
      } else if (event.pages.total === 0) {
        run.afterValue(flow, state, state.result, []);
      } else {
        const writer = run.writerOf(flow, state);
        if (writer !== false)
          run.fanOut(state, { kind: "pages", pages: event.pages }, event.pages.total, writer);
      }
      return run.finish(true);
    }
    case "JoinCompleted": {
      if (!current(event.token) || waiting?.kind !== "join") return unchanged;
      if (state.type !== "Parallel" && state.type !== "Map") return unchanged;
      if (event.outcome.status === "failed") {
        run.history({ type: "BranchesJoined", state: state.name, error: event.outcome.error });
        run.fail(flow, state, event.outcome.error);
      } else if (event.outcome.written !== undefined) {
        // Results went to the Map's result_writer: its manifest is the value.
        run.history({
          type: "BranchesJoined",
          state: state.name,
          detail: { written: true },
        });
        run.afterValue(flow, state, state.result, event.outcome.written);
      } else {
        run.join(flow, state, event.outcome.branches);
      }
      return run.finish(true);
    }
    case "CancelRequested": {
      run.cancelChildren();
      run.end({ status: "cancelled", error: { name: ERRORS.CANCELLED, message: event.reason } });
      return run.finish(true);
    }
    case "Aborted": {
      run.cancelChildren();
      run.end({ status: "failed", error: event.error });
      return run.finish(true);
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

function onTimer(
  run: Run,
  flow: Flow,
  state: State,
  event: Extract<ThreadEvent, { type: "TimerFired" }>,
  unchanged: ThreadStep,
): ThreadStep {
  const thread = run.thread;
  const waiting = thread.waiting;
  const current = event.token.thread === thread.id && event.token.step === thread.step;
  switch (event.purpose) {
    case "workflow-timeout": {
      if (thread.id !== ROOT_THREAD) return unchanged;
      run.history({ type: "TimerFired", state: state.name, detail: { purpose: event.purpose } });
      run.cancelChildren();
      run.end({
        status: "failed",
        error: { name: ERRORS.TIMEOUT, message: "the workflow's timeout elapsed" },
      });
      return run.finish(true);
    }
    case "wait": {
      if (!current || waiting?.kind !== "wait" || state.type !== "Wait") return unchanged;
      run.history({ type: "TimerFired", state: state.name, detail: { purpose: event.purpose } });
      run.exitTo(flow, state, thread.data);
      return run.finish(true);
    }
    case "timeout":
    case "heartbeat": {
      if (!current || event.token.attempt !== thread.attempt || waiting?.kind !== "activity")
        return unchanged;
      if (event.purpose === "heartbeat" && event.seq !== waiting.heartbeatSeq) return unchanged;
      if (state.type !== "Task") return unchanged;
      const error: WorkflowError =
        event.purpose === "timeout"
          ? {
              name: ERRORS.TIMEOUT,
              message: `attempt ${thread.attempt} of '${state.name}' ran past its timeout`,
            }
          : {
              name: ERRORS.HEARTBEAT_TIMEOUT,
              message: `'${state.name}' sent no heartbeat in time`,
            };
      run.commands.push({ type: "CancelActivity", token: event.token });
      run.history({ type: "ActivityFailed", state: state.name, attempt: thread.attempt, error });
      run.fail(flow, state, error);
      return run.finish(true);
    }
    case "event-timeout": {
      if (!current || waiting?.kind !== "event" || state.type !== "WaitForEvent") return unchanged;
      run.fail(flow, state, {
        name: ERRORS.TIMEOUT,
        message: `no '${state.event}' event arrived in time`,
      });
      return run.finish(true);
    }
    default: {
      const unreachable: never = event.purpose;
      throw new Error(`unknown timer ${String(unreachable)}`);
    }
  }
}

/** The mutable working copy of one step. */
class Run {
  readonly definition: Definition;
  readonly context: ExecutionContext;
  readonly now: number;
  thread: ThreadState;
  readonly commands: Command[] = [];
  readonly events: HistoryEvent[] = [];
  #inline = 0;

  constructor(definition: Definition, context: ExecutionContext, thread: ThreadState, now: number) {
    this.definition = definition;
    this.context = context;
    this.thread = thread;
    this.now = now;
  }

  history(event: Omit<HistoryEvent, "thread" | "seq" | "step" | "at">): void {
    // Positions count from the thread's recorded events; `finish` adds this step's.
    const seq = this.thread.recorded + this.events.length;
    this.events.push({
      ...event,
      thread: this.thread.id,
      seq,
      step: this.thread.step,
      at: this.now,
    });
  }

  finish(transitioned: boolean): ThreadStep {
    const thread: ThreadState = {
      ...this.thread,
      recorded: this.thread.recorded + this.events.length,
      ...(transitioned ? { transitions: this.thread.transitions + 1 } : {}),
    };
    const commands: Command[] = [...this.commands];
    if (this.events.length > 0) commands.unshift({ type: "RecordHistory", events: this.events });
    return { thread, commands, changed: true };
  }

  evaluation(): EvaluationContext {
    const t = this.thread;
    return {
      data: t.data,
      workflow: {
        input: this.context.input,
        id: this.context.executionId,
        name: this.context.workflowName,
      },
      execution: {
        id: this.context.executionId,
        start_time: new Date(this.context.startTime).toISOString(),
      },
      state: { name: t.current, attempt: t.attempt },
      ...(t.map ? { map: t.map } : {}),
    };
  }

  /** Evaluates a template or value; an ExpressionError becomes a workflow error. */
  evaluate(
    what: { template: Template } | { value: Parameters<typeof evaluateValue>[0] },
  ): { ok: true; value: JsonValue } | { ok: false; error: WorkflowError } {
    try {
      const value =
        "template" in what
          ? evaluateTemplate(what.template, this.evaluation())
          : evaluateValue(what.value, this.evaluation());
      return { ok: true, value };
    } catch (error) {
      if (error instanceof ExpressionError) {
        return {
          ok: false,
          error: {
            name: ERRORS.EXPRESSION_ERROR,
            message: `${this.thread.current}: ${error.message}`,
          },
        };
      }
      throw error;
    }
  }

  /** Enters `name` with `data` and keeps going through control-flow states until the thread waits or ends. */
  advance(flow: Flow, name: string, data: JsonValue): void {
    if (++this.#inline > MAX_INLINE_TRANSITIONS) {
      this.end({
        status: "failed",
        error: {
          name: ERRORS.LOOP_LIMIT,
          message: `more than ${MAX_INLINE_TRANSITIONS} states in one step without a Task or a wait (a loop of Choice/Pass states?)`,
        },
      });
      return;
    }
    const state = stateOf(flow, name);
    this.thread = {
      ...withoutWaiting(this.thread),
      current: name,
      step: this.thread.step + 1,
      attempt: 1,
      enteredAt: this.now,
      data,
    };
    this.history({ type: "StateEntered", state: name, input: data });
    this.run(flow, state);
  }

  run(flow: Flow, state: State): void {
    const data = this.thread.data;
    switch (state.type) {
      case "Task":
        this.schedule(flow, state, this.now);
        return;
      case "Choice": {
        for (const choice of state.choices) {
          const result = this.evaluate({ template: choice.condition });
          if (!result.ok) return this.fail(flow, state, result.error);
          if (isTruthy(result.value)) {
            this.history({
              type: "StateExited",
              state: state.name,
              output: data,
              detail: { next: choice.next },
            });
            return this.advance(flow, choice.next, data);
          }
        }
        if (state.default !== undefined) {
          this.history({
            type: "StateExited",
            state: state.name,
            output: data,
            detail: { next: state.default },
          });
          return this.advance(flow, state.default, data);
        }
        return this.fail(flow, state, {
          name: ERRORS.NO_CHOICE_MATCHED,
          message: `no condition of '${state.name}' was true and it has no default`,
        });
      }
      case "Pass": {
        if (state.value === undefined) return this.afterValue(flow, state, state.result, data);
        const value = this.evaluate({ value: state.value });
        if (!value.ok) return this.fail(flow, state, value.error);
        return this.afterValue(flow, state, state.result, value.value);
      }
      case "Wait": {
        let at: number;
        if ("durationMs" in state.wait) {
          at = this.now + state.wait.durationMs;
        } else {
          const until = this.evaluate({ template: state.wait.until });
          if (!until.ok) return this.fail(flow, state, until.error);
          const parsed =
            typeof until.value === "string" && ISO_TIMESTAMP.test(until.value)
              ? Date.parse(until.value)
              : Number.NaN;
          if (Number.isNaN(parsed)) {
            return this.fail(flow, state, {
              name: ERRORS.EXPRESSION_ERROR,
              message: `${state.name}: until gave ${JSON.stringify(until.value)}, not an ISO-8601 timestamp with a zone (2026-01-01T06:00:00Z)`,
            });
          }
          at = parsed;
        }
        if (at <= this.now) return this.exitTo(flow, state, data);
        this.thread = { ...this.thread, waiting: { kind: "wait" } };
        this.commands.push({ type: "ScheduleTimer", token: this.token(), purpose: "wait", at });
        this.history({
          type: "TimerScheduled",
          state: state.name,
          detail: { purpose: "wait", at },
        });
        return;
      }
      case "WaitForEvent": {
        this.thread = { ...this.thread, waiting: { kind: "event", event: state.event } };
        this.commands.push({ type: "AwaitEvent", token: this.token(), event: state.event });
        if (state.timeoutMs !== undefined) {
          this.commands.push({
            type: "ScheduleTimer",
            token: this.token(),
            purpose: "event-timeout",
            at: this.now + state.timeoutMs,
          });
        }
        this.history({ type: "EventAwaited", state: state.name, detail: { event: state.event } });
        return;
      }
      case "Parallel":
        return this.fanOut(state, { kind: "shared", value: data }, state.branches.length);
      case "Map": {
        if (state.itemReader) {
          // The runtime reads the object a page at a time; `ItemsRead` fans out.
          const source = resolveItemSource(state.itemReader, this.evaluation(), state.name);
          if (!source.ok) return this.fail(flow, state, source.error);
          this.thread = { ...this.thread, waiting: { kind: "items" } };
          this.commands.push({
            type: "ReadItems",
            token: { thread: this.thread.id, step: this.thread.step },
            source: source.value,
          });
          return;
        }
        const items = this.evaluate({ value: state.items });
        if (!items.ok) return this.fail(flow, state, items.error);
        if (!Array.isArray(items.value)) {
          return this.fail(flow, state, {
            name: ERRORS.EXPRESSION_ERROR,
            message: `${state.name}: items gave ${describe(items.value)}, not a list`,
          });
        }
        if (items.value.length === 0) return this.afterValue(flow, state, state.result, []);
        const writer = this.writerOf(flow, state);
        if (writer === false) return;
        return this.fanOut(
          state,
          { kind: "items", items: items.value },
          items.value.length,
          writer,
        );
      }
      case "Succeed":
        this.history({ type: "StateExited", state: state.name, output: data });
        return this.end({ status: "succeeded" });
      case "Fail": {
        let message = `the workflow reached '${state.name}'`;
        if (state.cause) {
          const cause = this.evaluate({ template: state.cause });
          message = cause.ok
            ? typeof cause.value === "string"
              ? cause.value
              : JSON.stringify(cause.value)
            : cause.error.message;
        }
        return this.end({ status: "failed", error: { name: state.error, message } });
      }
      default: {
        const unreachable: never = state;
        throw new Error(`unknown state ${JSON.stringify(unreachable)}`);
      }
    }
  }

  token(): Token {
    return { thread: this.thread.id, step: this.thread.step };
  }

  /** Schedules the current attempt of a Task, not before `notBefore`. */
  schedule(flow: Flow, state: TaskState, notBefore: number): void {
    const input =
      state.parameters === undefined
        ? { ok: true as const, value: this.thread.data }
        : this.evaluate({ value: state.parameters });
    if (!input.ok) return this.fail(flow, state, input.error);
    let cache: { key: string; ttlMs: number } | undefined;
    if (state.cache) {
      const key = this.evaluate({ template: state.cache.key });
      if (!key.ok) return this.fail(flow, state, key.error);
      cache = {
        key: typeof key.value === "string" ? key.value : JSON.stringify(key.value),
        ttlMs: state.cache.ttlMs,
      };
    }
    const { id, step, attempt } = this.thread;
    const token = { thread: id, step, attempt };
    this.thread = { ...this.thread, waiting: { kind: "activity", heartbeatSeq: 0 } };
    this.commands.push({
      type: "RunActivity",
      token,
      state: state.name,
      activity: state.resource.activity,
      ...(state.resource.pool === undefined ? {} : { pool: state.resource.pool }),
      input: input.value,
      ...(notBefore > this.now ? { notBefore } : {}),
      ...(state.timeoutMs === undefined ? {} : { timeoutMs: state.timeoutMs }),
      ...(state.heartbeatMs === undefined ? {} : { heartbeatMs: state.heartbeatMs }),
      ...(cache ? { cache } : {}),
      idempotencyKey: `${this.context.executionId}/${id}/${state.name}/${step}/${attempt}`,
    });
    if (state.timeoutMs !== undefined) {
      this.commands.push({
        type: "ScheduleTimer",
        token,
        purpose: "timeout",
        at: notBefore + state.timeoutMs,
      });
    }
    if (state.heartbeatMs !== undefined) {
      this.commands.push({
        type: "ScheduleTimer",
        token,
        purpose: "heartbeat",
        at: notBefore + state.heartbeatMs,
        seq: 0,
      });
    }
    this.history({
      type: "ActivityScheduled",
      state: state.name,
      attempt,
      input: input.value,
      detail: { activity: state.resource.activity, ...(notBefore > this.now ? { notBefore } : {}) },
    });
  }

  /** A Map's `result_writer` location; false when it failed the state. */
  writerOf(flow: Flow, state: MapState): ResultLocation | undefined | false {
    if (!state.resultWriter) return undefined;
    const location = resolveResultLocation(state.resultWriter, this.evaluation(), state.name);
    if (location.ok) return location.value;
    this.fail(flow, state, location.error);
    return false;
  }

  fanOut(
    state: ParallelState | MapState,
    inputs: BranchInputs,
    total: number,
    writer?: ResultLocation,
  ): void {
    const joinId = joinIdFor(this.thread.id, state.name, this.thread.step);
    const parallel = state.type === "Parallel";
    const toleratedFailures =
      state.type === "Map" && state.toleratedFailurePercentage !== undefined
        ? Math.min(
            state.toleratedFailures,
            Math.floor((total * state.toleratedFailurePercentage) / 100),
          )
        : state.toleratedFailures;
    const join: JoinState = {
      id: joinId,
      kind: parallel ? "parallel" : "map",
      parentThread: this.thread.id,
      parentFlow: this.thread.flow,
      ...(this.thread.map ? { parentMap: this.thread.map } : {}),
      parentStep: this.thread.step,
      state: state.name,
      total,
      waitForAll: parallel ? state.completion === "ALL" : true,
      required: parallel ? state.required : Math.max(0, total - toleratedFailures),
      toleratedFailures,
      maxConcurrency: parallel ? 0 : state.maxConcurrency,
      started: 0,
      succeeded: [],
      failed: [],
      status: "open",
    };
    const first = join.maxConcurrency > 0 ? Math.min(join.maxConcurrency, total) : total;
    const indexes = Array.from({ length: first }, (_, i) => i);
    this.thread = { ...this.thread, waiting: { kind: "join", joinId } };
    this.commands.push({
      type: "StartJoin",
      join: { ...join, started: first },
      inputs,
      ...(writer ? { writer } : {}),
    });
    this.commands.push({ type: "StartBranches", joinId, indexes });
    this.history({
      type: "BranchesStarted",
      state: state.name,
      detail: { join: joinId, total, started: first },
    });
  }

  /** A Parallel's or Map's branches all ended well enough: merge their results and move on. */
  join(flow: Flow, state: ParallelState | MapState, branches: readonly BranchResult[]): void {
    let data = this.thread.data;
    const outputs: JsonValue[] = [];
    const ordered = [...branches].sort((a, b) => a.index - b.index);
    try {
      for (const branch of ordered) {
        const output = branch.status === "succeeded" ? (branch.output ?? null) : null;
        outputs.push(output);
        if (state.type !== "Parallel" || branch.status !== "succeeded") continue;
        const spec = state.branches[branch.index];
        if (!spec || spec.result === null) continue;
        const value =
          spec.single && spec.result.length > 0 ? (getPath(output, spec.result) ?? null) : output;
        data = setPath(data, spec.result, value);
      }
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      return this.fail(flow, state, {
        name: ERRORS.EXPRESSION_ERROR,
        message: `${state.name}: ${error.message}`,
      });
    }
    // The succeeded indexes while they are few; past that their count (a 100,000-item
    // Map's list would pass DynamoDB's item limit on its own).
    const succeeded = ordered.filter((b) => b.status === "succeeded").map((b) => b.index);
    this.history({
      type: "BranchesJoined",
      state: state.name,
      detail:
        ordered.length <= MAX_LISTED_BRANCHES
          ? { succeeded }
          : { items: ordered.length, succeededCount: succeeded.length },
    });
    this.thread = { ...this.thread, data };
    if (state.result === null) return this.exitTo(flow, state, data);
    return this.afterValue(flow, state, state.result, outputs);
  }

  /** Places a state's value at its result target and moves on. */
  afterValue(flow: Flow, state: State, target: ResultTarget, value: JsonValue): void {
    let data = this.thread.data;
    if (target !== null) {
      try {
        data = setPath(data, target, value);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        return this.fail(flow, state, {
          name: ERRORS.EXPRESSION_ERROR,
          message: `${state.name}: ${error.message}`,
        });
      }
    }
    this.exitTo(flow, state, data);
  }

  /** Leaves a state with `data`: to its next state, or ends the flow. */
  exitTo(flow: Flow, state: State, data: JsonValue): void {
    this.thread = { ...this.thread, data };
    this.history({ type: "StateExited", state: state.name, output: data });
    if (!("transition" in state)) return this.end({ status: "succeeded" });
    if ("next" in state.transition) return this.advance(flow, state.transition.next, data);
    this.end({ status: "succeeded" });
  }

  /** A state failed: retry (Tasks), catch, or fail the thread. */
  fail(flow: Flow, state: State, error: WorkflowError): void {
    if (
      state.type === "Task" &&
      error.retryable !== false &&
      error.name !== ERRORS.EXPRESSION_ERROR
    ) {
      const retrier = state.retry.find((r) => matches(r.errors, error.name));
      if (retrier && this.thread.attempt < retrier.maxAttempts) {
        let delay = Math.min(
          MAX_RETRY_DELAY_MS,
          retrier.intervalMs * retrier.backoffRate ** (this.thread.attempt - 1),
        );
        if (retrier.maxIntervalMs !== undefined) delay = Math.min(delay, retrier.maxIntervalMs);
        if (retrier.jitter === "full") {
          const draw = nextRandom(this.thread.rng);
          this.thread = { ...this.thread, rng: draw.state };
          delay *= draw.value;
        }
        if (error.retryAfterMs !== undefined)
          delay = Math.min(MAX_RETRY_DELAY_MS, Math.max(0, error.retryAfterMs));
        delay = Math.round(delay);
        this.thread = { ...this.thread, attempt: this.thread.attempt + 1 };
        this.history({
          type: "RetryScheduled",
          state: state.name,
          attempt: this.thread.attempt,
          error,
          detail: { delayMs: delay },
        });
        return this.schedule(flow, state, this.now + delay);
      }
    }
    const catchers: readonly Catcher[] = "catch" in state ? state.catch : [];
    const catcher = catchers.find((c) => matches(c.errors, error.name));
    if (catcher) {
      const value: JsonValue = { name: error.name, message: error.message };
      let data = this.thread.data;
      if (catcher.result !== null) {
        try {
          data = setPath(data, catcher.result, value);
        } catch (failure) {
          if (!(failure instanceof ExpressionError)) throw failure;
          return this.end({
            status: "failed",
            error: {
              name: ERRORS.EXPRESSION_ERROR,
              message: `${state.name}: the catcher for ${error.name} could not place the error: ${failure.message}`,
            },
          });
        }
      }
      this.history({
        type: "ErrorCaught",
        state: state.name,
        error,
        detail: { next: catcher.next },
      });
      this.thread = { ...this.thread, data };
      this.history({
        type: "StateExited",
        state: state.name,
        output: data,
        detail: { next: catcher.next },
      });
      return this.advance(flow, catcher.next, data);
    }
    this.end({ status: "failed", error });
  }

  /** Asks the runtime to stop whatever this thread is waiting on. */
  cancelChildren(): void {
    const waiting = this.thread.waiting;
    if (waiting?.kind === "activity") {
      this.commands.push({
        type: "CancelActivity",
        token: { ...this.token(), attempt: this.thread.attempt },
      });
    } else if (waiting?.kind === "join") {
      this.commands.push({ type: "CancelJoin", joinId: waiting.joinId });
    }
  }

  /** Ends the thread; the root ends the execution, a branch reports to its join. */
  end(
    outcome: { status: "succeeded" } | { status: "failed" | "cancelled"; error: WorkflowError },
  ): void {
    const { id, parent } = this.thread;
    this.thread = {
      ...withoutWaiting(this.thread),
      status: outcome.status,
      ...(outcome.status === "succeeded" ? {} : { error: outcome.error }),
    };
    if (parent) {
      this.history({
        type: "BranchFinished",
        state: this.thread.current,
        ...(outcome.status === "succeeded" ? {} : { error: outcome.error }),
        detail: { status: outcome.status, join: parent.joinId, index: parent.index },
      });
      this.commands.push({
        type: "FinishBranch",
        branch: {
          joinId: parent.joinId,
          index: parent.index,
          status: outcome.status,
          ...(outcome.status === "succeeded" ? {} : { error: outcome.error }),
        },
      });
      return;
    }
    if (id !== ROOT_THREAD) return;
    const dimensions = { workflow: this.context.workflowName };
    this.commands.push({
      type: "EmitMetric",
      metric: {
        name: "WorkflowDuration",
        value: this.now - this.context.startTime,
        unit: "Milliseconds",
        dimensions,
      },
    });
    this.commands.push({
      type: "EmitMetric",
      metric: {
        name: "WorkflowOutcome",
        value: 1,
        unit: "Count",
        dimensions: { ...dimensions, outcome: outcome.status },
      },
    });
    if (outcome.status === "succeeded") {
      this.history({ type: "ExecutionSucceeded", output: this.thread.data });
      this.commands.push({ type: "CompleteExecution", output: this.thread.data });
    } else if (outcome.status === "failed") {
      this.history({ type: "ExecutionFailed", error: outcome.error });
      this.commands.push({ type: "FailExecution", error: outcome.error });
    } else {
      this.history({ type: "ExecutionCancelled", error: outcome.error });
      this.commands.push({ type: "CancelExecution", reason: outcome.error.message });
    }
  }
}

function withoutWaiting(thread: ThreadState): ThreadState {
  const { waiting: _waiting, ...rest } = thread;
  return rest;
}

function matches(errors: readonly string[], name: string): boolean {
  return errors.includes("ALL") || errors.includes(name);
}

function describe(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
