/**
 * One step of a thread: the mutable working copy that runs states until the thread
 * must wait, and the commands and history events it collects.
 */

import type { Catcher, Definition, Flow, ResultTarget, State } from "../cdl/index.ts";
import {
  type EvaluationContext,
  ExpressionError,
  evaluateTemplate,
  evaluateValue,
  isTruthy,
  type JsonValue,
  setPath,
  type Template,
} from "../expr/index.ts";
import { fanOut, runMap } from "./fan-out.ts";
import { stateOf } from "./flow.ts";
import { nextRandom } from "./random.ts";
import type { Resume } from "./resume.ts";
import { scheduleTask } from "./task.ts";
import {
  type Command,
  ERRORS,
  type ExecutionContext,
  type HistoryEvent,
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

/** The mutable working copy of one step. */
export class Run {
  readonly definition: Definition;
  readonly context: ExecutionContext;
  readonly now: number;
  thread: ThreadState;
  readonly commands: Command[] = [];
  readonly events: HistoryEvent[] = [];
  /** A redrive's path, taken by the first fan-out this step enters (see resume.ts). */
  resume: Resume | undefined;
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
        scheduleTask(this, flow, state, this.now);
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
        return fanOut(this, state, { kind: "shared", value: data }, state.branches.length);
      case "Map":
        return runMap(this, flow, state);
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
        return scheduleTask(this, flow, state, this.now + delay);
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
    detail?: { readonly [key: string]: JsonValue },
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
        detail: { status: outcome.status, join: parent.joinId, index: parent.index, ...detail },
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
