/**
 * Small pieces the simulation tests share: activities that take virtual time and
 * mark which run produced their result, outcome judges for `checkInvariants`,
 * one-call runs, and crash sweeps over every write of a window.
 */
import assert, { deepStrictEqual } from "node:assert/strict";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import {
  crashAtWrite,
  type FaultPlan,
  type SimActivity,
  type SimActivityContext,
  Simulation,
  type SimulationOptions,
  type SimulationReport,
} from "./chaos.ts";
import {
  brief,
  checkInvariants,
  type ExecutionExpectation,
  type InvariantOptions,
  type Outcome,
  withoutRuns,
} from "./invariants.ts";

/** An error an activity throws, matched by name like any workflow error. */
export function fail(name: string, message: string, retryable?: boolean): Error {
  return Object.assign(new Error(message), {
    name,
    ...(retryable === undefined ? {} : { retryable }),
  });
}

type Ctx = SimActivityContext;

/**
 * `work`: sleeps `ms` (default 100) of virtual time, returns `{h: t, run}` — the
 * value differs on a re-run of the same attempt (`run` counts them).
 */
export const work: SimActivity = async (input: { t: JsonValue; ms?: number }, ctx: Ctx) => {
  await ctx.sleep(input.ms ?? 100);
  return { h: input.t ?? null, run: ctx.run };
};

/** `fickle`: like `work`, but its second run of an attempt throws `Transient` (retryable). */
export const fickle: SimActivity = async (input: { t: JsonValue; ms?: number }, ctx: Ctx) => {
  await ctx.sleep(input.ms ?? 100);
  if (ctx.run === 2) throw fail("Transient", "the provider timed out this time");
  return { h: input.t ?? null, run: ctx.run };
};

/** The usual activities of the scenarios. */
export const ACTIVITIES: Record<string, SimActivity> = { work, fickle };

// ---------------------------------------------------------------------------
// Outcome judges

type Judge = NonNullable<ExecutionExpectation["outcome"]>;

/** Succeeded, with this output once the `run` marks of activity results are dropped. */
export function succeededWith(expected: JsonValue): Judge {
  return ({ view, output, calls }: Outcome) => {
    if (view.thread.status !== "succeeded")
      return `expected it to succeed, it ${view.thread.status}${view.thread.error ? ` with ${view.thread.error.name}: ${view.thread.error.message}` : ""}`;
    const got = withoutRuns(output, calls);
    try {
      deepStrictEqual(got, expected);
      return undefined;
    } catch {
      return `expected the output ${brief(expected)}, got ${brief(got)}`;
    }
  };
}

/** Ended with this status (and error name). */
export function endedAs(status: string, errorName?: string): Judge {
  return ({ view }: Outcome) => {
    if (view.thread.status !== status)
      return `expected it ${status}, it ${view.thread.status}${view.thread.error ? ` with ${view.thread.error.name}: ${view.thread.error.message}` : ""}`;
    if (errorName !== undefined && view.thread.error?.name !== errorName)
      return `expected the error ${errorName}, got ${view.thread.error?.name}: ${view.thread.error?.message}`;
    return undefined;
  };
}

/** One of several allowed outcomes. */
export function oneOf(...judges: Judge[]): Judge {
  return (outcome: Outcome) => {
    const verdicts: string[] = [];
    for (const judge of judges) {
      const verdict = judge(outcome);
      if (verdict === undefined) return undefined;
      verdicts.push(verdict);
    }
    return `none of the allowed outcomes: ${verdicts.join(" / ")}`;
  };
}

// ---------------------------------------------------------------------------
// Runs

export interface Run {
  readonly sim: Simulation;
  readonly report: SimulationReport;
  readonly problems: string[];
}

/**
 * Builds a simulation, lets `setup` schedule its HTTP calls, runs it and checks
 * every invariant with `expectations`.
 */
export async function simulate(
  options: SimulationOptions,
  setup: (sim: Simulation) => void,
  expectations:
    | readonly ExecutionExpectation[]
    | ((sim: Simulation) => readonly ExecutionExpectation[]),
  invariantOptions: InvariantOptions = {},
): Promise<Run> {
  const sim = new Simulation(options);
  setup(sim);
  const report = await sim.run();
  const list = typeof expectations === "function" ? expectations(sim) : expectations;
  const problems = await checkInvariants(sim, report, list, invariantOptions);
  return { sim, report, problems };
}

/**
 * Runs one simulation per write of a window — a crash (or an error) just before,
 * then just after, the 1st, 2nd, … write (until a run's plan never fires) — and
 * returns the runs that broke an invariant, labelled.
 */
export async function sweepWrites(
  label: string,
  max: number,
  run: (plan: FaultPlan, where: string) => Promise<Run>,
  window: {
    role?: string;
    when?: (sim: Simulation) => boolean;
    /** "error": the write throws to its caller instead (the process lives). */
    fault?: "crash" | "error";
  } = {},
): Promise<{ failures: string[]; runs: number }> {
  const failures: string[] = [];
  let runs = 0;
  for (const phase of ["before", "after"] as const) {
    for (let n = 1; n <= max; n++) {
      const crash = crashAtWrite({ n, phase, ...window });
      const where = `${label}, ${window.fault === "error" ? "an error" : "a crash"} ${phase} write ${n}`;
      const result = await run(crash.plan, where);
      runs++;
      if (!crash.fired()) break;
      if (result.problems.length > 0) failures.push(`${where}: ${result.problems.join("; ")}`);
    }
  }
  return { failures, runs };
}

/** Fails with the first few failures of a sweep (or of seeds) and their count. */
export function assertNoFailures(failures: readonly string[], what: string): void {
  if (failures.length === 0) return;
  assert.fail(
    `${failures.length} ${what} broke an invariant:\n${failures
      .slice(0, 12)
      .map((f) => `- ${f}`)
      .join("\n")}${failures.length > 12 ? `\n- … and ${failures.length - 12} more` : ""}`,
  );
}
