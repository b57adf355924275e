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
import type { Definition, Flow, State } from "../cdl/index.ts";
import type { JsonValue } from "../expr/index.ts";
import { type BranchSpec, onItemsRead, onJoinCompleted } from "./fan-out.ts";
import { resolveFlow, stateOf } from "./flow.ts";
import { seedFor } from "./random.ts";
import type { Resume } from "./resume.ts";
import { ROOT_THREAD, Run } from "./step.ts";
import {
  ERRORS,
  type ExecutionContext,
  type ThreadEvent,
  type ThreadState,
  type ThreadStep,
  type Token,
  type WorkflowError,
} from "./types.ts";

export {
  type BranchSpec,
  branchSpecFor,
  branchThreadId,
  joinIdFor,
  MAX_LISTED_BRANCHES,
  mapItemSpec,
} from "./fan-out.ts";
export { MAX_INLINE_TRANSITIONS, ROOT_THREAD } from "./step.ts";

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
  run.resume = from?.resume;
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
  /** When `state` is a Parallel or Map: how its branches re-run the original's. */
  readonly resume?: Resume;
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
  const start = spec.reused?.state ?? spec.from?.state ?? flow.startAt;
  const data = spec.reused?.output ?? spec.from?.data ?? spec.input;
  const thread: ThreadState = {
    id: spec.id,
    flow: spec.flow,
    parent: spec.parent,
    ...(spec.map ? { map: spec.map } : {}),
    status: "running",
    current: start,
    step: 0,
    attempt: 1,
    enteredAt: now,
    data,
    rng: seedFor(`${context.executionId}/${spec.id}`),
    transitions: 0,
    recorded: 0,
  };
  const run = new Run(definition, context, thread, now);
  if (spec.reused) {
    // A redrive keeps what this branch did in the original: it ends as it ended there.
    run.end({ status: "succeeded" }, { reused: spec.reused.thread });
    return run.finish(true);
  }
  run.resume = spec.from?.resume;
  run.advance(flow, start, data);
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
    case "ItemsRead":
      return onItemsRead(run, flow, state, event, unchanged);
    case "JoinCompleted":
      return onJoinCompleted(run, flow, state, event, unchanged);
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
