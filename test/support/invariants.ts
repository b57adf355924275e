/**
 * The invariants of DESIGN.md section 4, checked after a simulation (test/support/chaos.ts)
 * from what a user can read (the execution, its history) and what the simulation
 * observed (activity calls, messages, items, deliveries, the roots after every write).
 *
 * `checkInvariants` returns every problem found, as sentences; `assertInvariants`
 * fails a test with all of them and the run's configuration.
 */
import assert from "node:assert/strict";
import type { HistoryEvent } from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type { ExecutionView } from "../../lib/core/ports.ts";
import { DEATHS_BEFORE_TIMEOUT } from "../../lib/runtime/dispatch.ts";
import type { ActivityCall, Simulation, SimulationReport } from "./chaos.ts";

export interface Outcome {
  readonly view: ExecutionView;
  readonly output: JsonValue | undefined;
  readonly history: readonly HistoryEvent[];
  readonly calls: readonly ActivityCall[];
}

export interface ExecutionExpectation {
  readonly tenant?: string;
  readonly id: string;
  /** Judges the outcome: a problem, or undefined when it is one of the allowed outcomes. */
  readonly outcome?: (outcome: Outcome) => string | undefined;
  /** It may still run at the end (it waits for something a person can name). */
  readonly mayRun?: boolean;
}

export interface InvariantOptions {
  /**
   * Chaos runs: a message dead-lettered after deliveries that all failed by an
   * injected fault (crash, injected error, lost delete) is bad luck, not a finding,
   * and its execution may then have failed with Cascade.RuntimeFailure.
   */
  readonly tolerateUnluckyDeadLetters?: boolean;
  /** Dead letters are the premise of the test (a poison message): only what they cause is judged. */
  readonly expectDeadLetters?: boolean;
}

const ENDINGS = {
  ExecutionSucceeded: "succeeded",
  ExecutionFailed: "failed",
  ExecutionCancelled: "cancelled",
} as const;

/** Every problem with the run, as sentences (empty: every invariant held). */
export async function checkInvariants(
  sim: Simulation,
  report: SimulationReport,
  expectations: readonly ExecutionExpectation[],
  options: InvariantOptions = {},
): Promise<string[]> {
  const problems: string[] = [];
  if (!report.settled) {
    problems.push(
      `the run did not settle: ${report.reason}; ${sim.queues.pending()} message(s) still queued or in flight`,
    );
  }
  for (const violation of sim.violations) problems.push(`limit: ${violation}`);

  const unluckyExecutions = new Set<string>();
  for (const letter of sim.dead) {
    if (letter.unlucky && options.tolerateUnluckyDeadLetters) {
      unluckyExecutions.add(`${letter.tenant}/${letter.executionId}`);
      continue;
    }
    if (options.expectDeadLetters) continue;
    problems.push(
      `a ${letter.kind} message (${letter.mid.slice(0, 80)}) of ${letter.tenant}/${letter.executionId} was dead-lettered; its deliveries: ${compress(letter.deliveries)}`,
    );
  }
  for (const letter of sim.dead)
    if (!letter.handled) problems.push(`the dead-letter handler never handled ${letter.mid}`);
  // An activity message whose process was crashed (injected) as often as the runtime
  // takes for a kill: the runtime cannot tell a crash from a kill at the function's
  // timeout, so the attempt timing out is bad luck as well.
  if (options.tolerateUnluckyDeadLetters) {
    // Deaths: injected crashes, and at most one kill at the function's timeout (a slow
    // first run that the next would finish).
    const deaths = new Map<string, { name: string; crashes: number; kills: number }>();
    for (const d of sim.deliveryLog) {
      if (d.kind !== "run" && d.kind !== "work") continue;
      if (d.fate !== "crash" && d.fate !== "timeout") continue;
      const key = `${d.queue}\u0000${d.slot}`;
      const entry = deaths.get(key) ?? {
        name: `${d.tenant}/${d.executionId}`,
        crashes: 0,
        kills: 0,
      };
      if (d.fate === "crash") entry.crashes++;
      else entry.kills++;
      deaths.set(key, entry);
    }
    for (const { name, crashes, kills } of deaths.values())
      if (crashes + Math.min(kills, 1) >= DEATHS_BEFORE_TIMEOUT) unluckyExecutions.add(name);
  }

  // Invariant 4: a redelivered attempt is the same attempt (one input per idempotency key).
  const inputs = new Map<string, ActivityCall>();
  for (const call of sim.calls) {
    const first = inputs.get(call.key);
    if (!first) inputs.set(call.key, call);
    else if (first.input !== call.input)
      problems.push(
        `idempotency key ${call.key} was given to two different attempts: ${first.input.slice(0, 120)} and ${call.input.slice(0, 120)}`,
      );
  }

  const metricEndings = workflowOutcomes(sim.lines);
  for (const expectation of expectations) {
    const tenant = expectation.tenant ?? "default";
    const name = `${tenant}/${expectation.id}`;
    const { view, output } = await sim.result(tenant, expectation.id);
    if (!view) {
      problems.push(`${name}: it never started (no record)`);
      continue;
    }
    const history = await sim.history(tenant, expectation.id);
    const calls = sim.callsOf(expectation.id);
    const status = view.thread.status;
    const tracked = sim.tracked.find((t) => t.tenant === tenant && t.id === expectation.id);

    // Liveness (invariant 10).
    if (status === "running" && !expectation.mayRun) {
      const waiting = view.thread.waiting ? JSON.stringify(view.thread.waiting) : "nothing";
      problems.push(
        `${name}: still running at the end, in '${view.thread.current}' waiting on ${waiting}, with ${sim.queues.pending()} message(s) in flight (${sim.hasReconciler ? `the reconciler ran ${report.reconcilerRounds} round(s)` : "the runtime has no reconcile()"})`,
      );
    }
    // Exactly one ending (invariant 1), seen from every root write.
    if (tracked) {
      if (status !== "running" && tracked.endings !== 1)
        problems.push(`${name}: it ended ${tracked.endings} times (root writes that ended it)`);
      if (tracked.changedAfterEnd) problems.push(`${name}: ${tracked.changedAfterEnd}`);
    }
    // EMF lines carry the execution id, not the tenant: executions sharing an id share a count.
    const metricCount = metricEndings.get(expectation.id) ?? 0;
    const sharing = expectations.filter((e) => e.id === expectation.id).length;
    if (metricCount > sharing)
      problems.push(
        `${name}: WorkflowOutcome was emitted ${metricCount} times${sharing > 1 ? ` for ${sharing} executions with this id` : ""}`,
      );

    problems.push(...historyProblems(name, history, status, sim.start));

    // Invariant 11: no activity starts after the cancel committed.
    if (tracked?.cancelledAt) {
      const cancelled = tracked.cancelledAt;
      const late = calls.filter((call) => call.seq > cancelled.seq);
      const first = late[0];
      if (first)
        problems.push(
          `${name}: ${late.length} activity run(s) started after the cancel committed at +${ms(cancelled.at - sim.start)} ms, the first ${first.activity} (${first.key}, run ${first.run}) at +${ms(first.startedAt - sim.start)} ms`,
        );
    }

    const unlucky = unluckyExecutions.has(name);
    // Through the workflow's own tolerance and catch (invariant 12): an item's or a
    // branch's give-up reaches the end wrapped, named in the message of what caught it;
    // the redeliveries may also have taken past the workflow's own timeout.
    // A dead-lettered item may also be the failure that takes a Map past its tolerance:
    // the Map's error then names the failure that closed it, and the item's own
    // RuntimeFailure is in its history.
    const error = view.thread.error;
    const given = (e: { name: string; message?: string } | undefined) =>
      e !== undefined && /Cascade\.(RuntimeFailure|Timeout)/.test(`${e.name}: ${e.message ?? ""}`);
    if (
      unlucky &&
      status === "failed" &&
      error &&
      (given(error) || history.some((e) => given(e.error)))
    )
      continue;
    const verdict = expectation.outcome?.({ view, output, history, calls });
    if (verdict !== undefined) problems.push(`${name}: ${verdict}`);
  }
  return problems;
}

/** Fails with every problem, and how to replay the run. */
export async function assertInvariants(
  sim: Simulation,
  report: SimulationReport,
  expectations: readonly ExecutionExpectation[],
  options: InvariantOptions = {},
): Promise<void> {
  const problems = await checkInvariants(sim, report, expectations, options);
  if (problems.length > 0)
    assert.fail(`${problems.map((p) => `- ${p}`).join("\n")}\n(run: ${sim.describe()})`);
}

/**
 * Invariant 6 as a reader sees it: every thread's history is complete (positions
 * 0..n-1, no gap), without duplicates, in order (time never goes back along a
 * thread, and events are read in their order); the root starts with
 * ExecutionStarted and has exactly one ending, last, matching the status.
 */
export function historyProblems(
  name: string,
  history: readonly HistoryEvent[],
  status: string,
  origin = 0,
): string[] {
  const problems: string[] = [];
  const when = (event: HistoryEvent) => `+${ms(event.at - origin)} ms`;
  const byThread = new Map<string, HistoryEvent[]>();
  for (const event of history) {
    const list = byThread.get(event.thread) ?? [];
    list.push(event);
    byThread.set(event.thread, list);
  }
  if (!byThread.has("root")) {
    problems.push(`${name}: its history has no event of the root thread`);
    return problems;
  }
  for (const [thread, events] of byThread) {
    const seen = new Map<number, HistoryEvent>();
    const twice: string[] = [];
    let lastSeq = -1;
    let outOfOrder = false;
    for (const event of events) {
      const twin = seen.get(event.seq);
      if (twin) {
        twice.push(
          `${event.seq} ${twin.type} at ${when(twin)} and ${event.type} at ${when(event)}`,
        );
        continue;
      }
      seen.set(event.seq, event);
      if (event.seq < lastSeq && !outOfOrder) {
        outOfOrder = true;
        problems.push(
          `${name}: thread ${thread}'s history reads out of order (${event.seq} after ${lastSeq})`,
        );
      }
      lastSeq = Math.max(lastSeq, event.seq);
    }
    if (twice.length > 0)
      problems.push(
        `${name}: thread ${thread} has ${twice.length} event position(s) twice: ${twice.slice(0, 3).join("; ")}${twice.length > 3 ? "; …" : ""}`,
      );
    const seqs = [...seen.keys()].sort((a, b) => a - b);
    const missing: number[] = [];
    const last = seqs.at(-1) ?? -1;
    for (let seq = 0; seq <= last && missing.length < 5; seq++)
      if (!seen.has(seq)) missing.push(seq);
    if (missing.length > 0)
      problems.push(
        `${name}: thread ${thread}'s history is incomplete: event(s) ${missing.join(", ")} missing of 0..${seqs.at(-1)}`,
      );
    let previous: HistoryEvent | undefined;
    for (const seq of seqs) {
      const event = seen.get(seq) as HistoryEvent;
      if (previous && event.at < previous.at) {
        problems.push(
          `${name}: thread ${thread}'s event ${seq} (${event.type}) is dated before event ${previous.seq} (${previous.type})`,
        );
        break;
      }
      previous = event;
    }
    if (thread !== "root" && events.some((e) => e.type in ENDINGS))
      problems.push(`${name}: branch thread ${thread} has an execution ending in its history`);
  }
  const root = [...(byThread.get("root") ?? [])].sort((a, b) => a.seq - b.seq);
  if (root[0]?.type !== "ExecutionStarted")
    problems.push(`${name}: its history does not start with ExecutionStarted (${root[0]?.type})`);
  const endings = root.filter((e) => e.type in ENDINGS);
  if (status === "running") {
    if (endings.length > 0)
      problems.push(`${name}: it is running but its history has ${endings[0]?.type}`);
  } else {
    if (endings.length !== 1)
      problems.push(
        `${name}: its history has ${endings.length} execution endings (${endings.map((e) => e.type).join(", ") || "none"}), not one`,
      );
    const ending = endings[0];
    if (ending && ENDINGS[ending.type as keyof typeof ENDINGS] !== status)
      problems.push(`${name}: its history ends with ${ending.type} but it is ${status}`);
    if (ending && root.at(-1) !== ending)
      problems.push(`${name}: the root has history after ${ending.type} (${root.at(-1)?.type})`);
  }
  return problems;
}

const ms = (value: number) => Math.round(value);

/** A list of delivery fates with repeats folded: `timeout ×4 | deleted`. */
function compress(list: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j < list.length && list[j] === list[i]) j++;
    out.push(j - i > 1 ? `${list[i]} (×${j - i})` : String(list[i]));
    i = j;
  }
  return out.join(" | ");
}

/** WorkflowOutcome EMF lines per execution id. */
function workflowOutcomes(lines: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (!line.includes('"WorkflowOutcome"')) continue;
    try {
      const parsed = JSON.parse(line) as { execution?: string; WorkflowOutcome?: number };
      if (parsed.execution === undefined || parsed.WorkflowOutcome === undefined) continue;
      counts.set(parsed.execution, (counts.get(parsed.execution) ?? 0) + 1);
    } catch {
      // not a metric line
    }
  }
  return counts;
}

/**
 * An activity result marks which run of its attempt produced it (`run`): the
 * output is right when it is the calm output up to which run's result was kept,
 * and each kept result is one the activity really returned. This drops `run`
 * from every object that an activity call returned, and marks the others.
 */
export function withoutRuns(
  value: JsonValue | undefined,
  calls: readonly ActivityCall[],
): JsonValue {
  const returned = new Set<string>();
  for (const call of calls)
    if (call.outcome && "ok" in call.outcome) returned.add(JSON.stringify(call.outcome.ok));
  const walk = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      if (typeof v.run === "number") {
        const { run: _run, ...rest } = v;
        if (!returned.has(JSON.stringify(v)))
          return { ...walkObject(rest), run: "not returned by any call" };
        return walkObject(rest);
      }
      return Object.fromEntries(entries.map(([k, e]) => [k, walk(e)]));
    }
    return v;
  };
  const walkObject = (o: { [key: string]: JsonValue }): { [key: string]: JsonValue } =>
    Object.fromEntries(Object.entries(o).map(([k, e]) => [k, walk(e)]));
  return walk(value ?? null);
}

/** A short text of a value, for messages. */
export function brief(value: unknown, max = 300): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
