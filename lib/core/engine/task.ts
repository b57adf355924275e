/** A Task's attempt: its activity's command, the attempt's timers and its history event. */
import type { Flow, TaskState } from "../cdl/index.ts";
import type { Run } from "./step.ts";

/** Schedules the current attempt of a Task, not before `notBefore`. */
export function scheduleTask(run: Run, flow: Flow, state: TaskState, notBefore: number): void {
  const input =
    state.parameters === undefined
      ? { ok: true as const, value: run.thread.data }
      : run.evaluate({ value: state.parameters });
  if (!input.ok) return run.fail(flow, state, input.error);
  let cache: { key: string; ttlMs: number } | undefined;
  if (state.cache) {
    const key = run.evaluate({ template: state.cache.key });
    if (!key.ok) return run.fail(flow, state, key.error);
    cache = {
      key: typeof key.value === "string" ? key.value : JSON.stringify(key.value),
      ttlMs: state.cache.ttlMs,
    };
  }
  const { id, step, attempt } = run.thread;
  const token = { thread: id, step, attempt };
  run.thread = { ...run.thread, waiting: { kind: "activity", heartbeatSeq: 0 } };
  run.commands.push({
    type: "RunActivity",
    token,
    state: state.name,
    activity: state.resource.activity,
    ...(state.resource.pool === undefined ? {} : { pool: state.resource.pool }),
    input: input.value,
    ...(notBefore > run.now ? { notBefore } : {}),
    ...(state.timeoutMs === undefined ? {} : { timeoutMs: state.timeoutMs }),
    ...(state.heartbeatMs === undefined ? {} : { heartbeatMs: state.heartbeatMs }),
    ...(cache ? { cache } : {}),
    idempotencyKey: `${run.context.executionId}/${id}/${state.name}/${step}/${attempt}`,
  });
  if (state.timeoutMs !== undefined) {
    run.commands.push({
      type: "ScheduleTimer",
      token,
      purpose: "timeout",
      at: notBefore + state.timeoutMs,
    });
  }
  if (state.heartbeatMs !== undefined) {
    run.commands.push({
      type: "ScheduleTimer",
      token,
      purpose: "heartbeat",
      at: notBefore + state.heartbeatMs,
      seq: 0,
    });
  }
  run.history({
    type: "ActivityScheduled",
    state: state.name,
    attempt,
    input: input.value,
    detail: { activity: state.resource.activity, ...(notBefore > run.now ? { notBefore } : {}) },
  });
}
