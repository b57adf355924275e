/**
 * Soak: `cascade dev` on the soak app (test/fixtures/soak) runs three hundred
 * executions — retries, a Parallel, Maps with and without max_concurrency, a Map of
 * Parallels, external events, Waits, cancellations — while it is killed with
 * SIGKILL three to five times at random moments and started again on the same data.
 * The HTTP API is called as a client would: a call the kill cut off is retried with
 * the same execution or event id until it is answered.
 *
 * The kill moments vary from run to run (SOAK_SEED replays a run's plan and delays,
 * not its timing); what is asserted holds whatever they are (DESIGN section 4):
 * every execution ends, exactly once (one terminal history event), with the status
 * and output its input determines; every activity step ran, with attempts 1..n and a
 * distinct key per attempt, as many times as the workflow says (duplicate deliveries
 * of one attempt are allowed: activities run at least once); nothing past the state
 * a cancelled execution was parked in ever ran. Activity starts after a cancel was
 * acknowledged are reported, not asserted. A failing run keeps its folder (data,
 * `calls.log`, each run's transition log as `dev-<n>.log`) and prints where it is.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { test } from "node:test";
import { type DevProcess, startDev } from "../cli/dev-process.ts";
import { repoPath } from "../helpers.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Status = "succeeded" | "failed" | "cancelled";

const APP = "soak";
const FIXTURE = repoPath("test", "fixtures", "soak");
const SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/**
 * Once every call is answered, executions have until none of the running ones has
 * moved (status, transitions, current states and attempts) for this long...
 */
const QUIET_MS = 30_000;
/** ...and at most this long in all: a loaded machine is slow, never stuck. */
const DRAIN_CAP_MS = 180_000;
/** How long an API call is retried (the server is down at most a few seconds at a time). */
const CALL_GIVE_UP_MS = 60_000;
const TERMINAL_EVENTS: Record<Status, string> = {
  succeeded: "ExecutionSucceeded",
  failed: "ExecutionFailed",
  cancelled: "ExecutionCancelled",
};

interface Expected {
  readonly status: Status;
  readonly output: Json;
  /** Name (and message, when known) of the execution's error. */
  readonly error: { readonly name: string; readonly message?: string } | null;
  /**
   * For each activity state: the highest attempt of each time the state ran (one
   * entry per Map item), sorted. Not checked for cancelled executions.
   */
  readonly attempts: Record<string, number[]>;
}

interface Plan {
  readonly id: string;
  readonly workflow: string;
  readonly input: Json;
  readonly expected: Expected;
  /** When to start it, in ms after the driver starts. */
  readonly startAt: number;
  /** External events to send, one after the other, each `delay` ms after the previous call. */
  readonly signals?: readonly { id: string; payload: Json; delay: number }[];
  /** Cancel it this many ms after its start was answered. */
  readonly cancelAfter?: number;
}

/** mulberry32: a small seeded generator, so SOAK_SEED replays a plan. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A deadline to race against: unref'd, so a race it lost does not hold the process open. */
const deadline = (ms: number) =>
  new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const items = (n: number) => range(n).map((i) => ({ i }));
/** A Map item whose first attempt fails when odd: its attempts. */
const squareAttempts = (n: number) => sorted(range(n).map((i) => (i % 2 === 1 ? 2 : 1)));

/** Three hundred executions; their outputs follow from their inputs (see the fixture's activities). */
function buildPlan(random: () => number): Plan[] {
  const plans: Plan[] = [];
  const WAVES = 12;
  const WAVE_MS = 1000;
  const startAt = () => Math.floor(random() * WAVES) * WAVE_MS + Math.floor(random() * 200);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

  for (const n of range(70)) {
    const id = `retry-${n}`;
    if (n % 10 === 9) {
      plans.push({
        id,
        workflow: "Retry",
        input: { n, failures: 0, fatal: true },
        startAt: startAt(),
        expected: {
          status: "failed",
          output: null,
          error: { name: "Fatal", message: `flaky ${n} is fatal` },
          attempts: { Flaky: [1] },
        },
      });
      continue;
    }
    const failures = [0, 1, 2, 3, 6][n % 5] ?? 0;
    const input = { n, failures };
    plans.push({
      id,
      workflow: "Retry",
      input,
      startAt: startAt(),
      expected:
        failures < 4
          ? {
              status: "succeeded",
              output: {
                ...input,
                flaky: { value: 3 * n, attempt: failures + 1 },
                doubled: `double:${6 * n}`,
              },
              error: null,
              attempts: { Flaky: [failures + 1], Double: [1] },
            }
          : {
              status: "succeeded",
              output: {
                ...input,
                error: { name: "Transient", message: `flaky ${n} failed attempt 4` },
                outcome: { gave_up: n },
              },
              error: null,
              attempts: { Flaky: [4] },
            },
    });
  }
  for (const n of range(50)) {
    plans.push({
      id: `fan-${n}`,
      workflow: "Fan",
      input: { n },
      startAt: startAt(),
      expected: {
        status: "succeeded",
        output: {
          n,
          left: `left:${n}`,
          chain: { n, a: `a:${n}`, b: `b:${n + 1}` },
          right: { value: 3 * n, attempt: 2 },
          combined: `combine:${4 * n}`,
        },
        error: null,
        attempts: { Left: [1], ChainA: [1], ChainB: [1], Right: [2], Combine: [1] },
      },
    });
  }
  for (const n of range(15)) {
    const count = between(20, 40);
    const list = items(count);
    plans.push({
      id: `maplimited-${n}`,
      workflow: "MapLimited",
      input: { items: list },
      startAt: startAt(),
      expected: {
        status: "succeeded",
        output: {
          items: list,
          squares: list.map(({ i }) => ({ i, sq: i * i })),
          total: list.reduce((sum, { i }) => sum + i * i, 0),
        },
        error: null,
        attempts: { Square: squareAttempts(count), Total: [1] },
      },
    });
  }
  for (const n of range(15)) {
    const count = between(10, 25);
    const list = items(count);
    plans.push({
      id: `mapwide-${n}`,
      workflow: "MapWide",
      input: { items: list },
      startAt: startAt(),
      expected: {
        status: "succeeded",
        output: { items: list, squares: list.map(({ i }) => ({ i, sq: i * i })) },
        error: null,
        attempts: { WideSquare: squareAttempts(count) },
      },
    });
  }
  for (const n of range(15)) {
    const count = between(4, 8);
    const list = items(count);
    plans.push({
      id: `nested-${n}`,
      workflow: "Nested",
      input: { items: list },
      startAt: startAt(),
      expected: {
        status: "succeeded",
        output: {
          items: list,
          groups: list.map(({ i }) => ({ i, l: `pl:${i}`, r: `pr:${i * 10}` })),
        },
        error: null,
        attempts: { PairLeft: range(count).map(() => 1), PairRight: range(count).map(() => 1) },
      },
    });
  }
  for (const n of range(50)) {
    const id = `signal-${n}`;
    // The second payload differs from the first: delivered out of order, the output would show it.
    const first = n;
    const second = n + 100;
    plans.push({
      id,
      workflow: "Signal",
      input: { n },
      startAt: startAt(),
      signals: [
        // A delay under ~50 ms usually lands before Prepare ends: the event is kept until asked for.
        { id: `${id}-e1`, payload: { k: first }, delay: random() < 0.3 ? 0 : between(50, 2500) },
        { id: `${id}-e2`, payload: { k: second }, delay: between(0, 1200) },
      ],
      expected: {
        status: "succeeded",
        output: {
          n,
          prepared: `prepare:${n}`,
          first: { k: first },
          second: { k: second },
          finished: `finish:${first + second}`,
        },
        error: null,
        attempts: { Prepare: [1], Finish: [1] },
      },
    });
  }
  for (const n of range(35)) {
    plans.push({
      id: `sleeper-${n}`,
      workflow: "Sleeper",
      input: { n },
      startAt: startAt(),
      expected: {
        status: "succeeded",
        output: { n, before: `before:${n}`, after: `after:${n}` },
        error: null,
        attempts: { Before: [1], After: [1] },
      },
    });
  }
  for (const n of range(50)) {
    plans.push({
      id: `cancel-${n}`,
      workflow: "Cancellable",
      input: { n, items: range(4).map((i) => ({ i, ms: between(100, 400) })) },
      startAt: startAt(),
      cancelAfter: random() < 0.2 ? 0 : between(10, 3000),
      expected: {
        status: "cancelled",
        output: null,
        error: { name: "Cascade.Cancelled" },
        attempts: {},
      },
    });
  }
  return plans;
}

interface Answer {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field
  readonly body: any;
  /** 1 when the first try was answered; more when a kill cut the earlier ones off. */
  readonly tries: number;
  readonly at: number;
}

/** The HTTP API of whichever `cascade dev` is up; calls wait while it is down and retry what a kill cut off. */
class Api {
  #url: string | undefined;
  #wake: (() => void)[] = [];
  #upAt = 0;
  /** How long after the last `up` the first call was answered (undefined: none yet). */
  firstAnswerMs: number | undefined;
  networkErrors = 0;
  serverErrors = 0;

  #answered: (() => void)[] = [];

  up(url: string): void {
    this.#url = url;
    this.#upAt = Date.now();
    this.firstAnswerMs = undefined;
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Resolves once the server that is up has answered a call. */
  answering(): Promise<void> {
    if (this.firstAnswerMs !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#answered.push(resolve));
  }

  down(): void {
    this.#url = undefined;
  }

  async #base(): Promise<string> {
    while (this.#url === undefined) await new Promise<void>((resolve) => this.#wake.push(resolve));
    return this.#url;
  }

  async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const giveUp = Date.now() + CALL_GIVE_UP_MS;
    for (let tries = 1; ; tries++) {
      if (Date.now() > giveUp)
        throw new Error(`${method} ${path}: no answer in ${CALL_GIVE_UP_MS} ms`);
      const base = await this.#base();
      try {
        const response = await fetch(`${base}/v1/apps/${APP}${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await response.text();
        if (base === this.#url && this.firstAnswerMs === undefined) {
          this.firstAnswerMs = Date.now() - this.#upAt;
          for (const resolve of this.#answered.splice(0)) resolve();
        }
        if (response.status >= 500) {
          this.serverErrors++;
          await sleep(200);
          continue;
        }
        return {
          status: response.status,
          body: text === "" ? null : JSON.parse(text),
          tries,
          at: Date.now(),
        };
      } catch {
        this.networkErrors++;
        await sleep(100);
      }
    }
  }
}

/** Runs `work` over `list`, `width` at a time. */
async function pool<T>(list: readonly T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    range(Math.min(width, list.length)).map(async () => {
      while (next < list.length) {
        const item = list[next++] as T;
        await work(item);
      }
    }),
  );
}

interface Call {
  readonly at: number;
  readonly key: string;
  /** The step key: the same across the retries of one step. */
  readonly step: string;
  readonly execution: string;
  readonly state: string;
  readonly activity: string;
  readonly attempt: number;
  readonly what: string;
}

test("kill -9 three to five times under three hundred executions: every one ends once, with the right output", {
  timeout: 400_000,
}, async () => {
  const t0 = Date.now();
  const since = (at: number) => `${((at - t0) / 1000).toFixed(1)}s`;
  const random = generator(SEED);
  const plans = buildPlan(random);
  const kills = 3 + Math.floor(random() * 3);
  const uptimes = range(kills).map(() => 800 + Math.floor(random() * 2000));
  console.log(
    `soak: seed ${SEED} (SOAK_SEED=${SEED} replays the plan), ${plans.length} executions, ${kills} kills, each ${uptimes.join(", ")} ms after the server's first answer`,
  );

  const dir = mkdtempSync(join(tmpdir(), "cascade-soak-"));
  cpSync(FIXTURE, dir, {
    recursive: true,
    filter: (source) => ![".cascade", "calls.log"].includes(basename(source)),
  });
  const callsLog = join(dir, "calls.log");
  const readCalls = (): { calls: Call[]; torn: number } => {
    if (!existsSync(callsLog)) return { calls: [], torn: 0 };
    const calls: Call[] = [];
    let torn = 0;
    for (const line of readFileSync(callsLog, "utf8").split("\n")) {
      if (line === "") continue;
      try {
        calls.push(JSON.parse(line) as Call);
      } catch {
        torn++;
      }
    }
    return { calls, torn };
  };

  /** What went wrong, by kind, so a failing run says at a glance which promise broke. */
  const problems: { kind: string; text: string }[] = [];
  const problem = (kind: string, text: string) => problems.push({ kind, text });
  /** Each execution's API calls as they were answered, for the report of one that went wrong. */
  const ops = new Map<string, string[]>();
  const op = (id: string, what: string, answer: Answer) =>
    ops.set(id, [
      ...(ops.get(id) ?? []),
      `${what} ${answer.status}${answer.tries > 1 ? ` on try ${answer.tries}` : ""} at ${since(answer.at)}`,
    ]);
  const api = new Api();
  // Each run's transition log, kept beside the data for a failing run's reader.
  let runs = 0;
  const keepLog = (stopped: DevProcess) =>
    writeFileSync(join(dir, `dev-${++runs}.log`), `${stopped.lines.join("\n")}\n`);
  let dev: DevProcess = await startDev(dir, ["--no-watch"]);
  api.up(dev.url);
  const timeline: string[] = [
    `${since(Date.now())} up (pid ${dev.child.pid}; t=0 is ${new Date(t0).toISOString()})`,
  ];
  const killedAt: number[] = [];
  const cancelAcks = new Map<string, number>();
  let startsAnswered = 0;

  try {
    // The driver: starts, events and cancels, retried across kills with the same ids.
    const drive = async (plan: Plan) => {
      await sleep(plan.startAt);
      const started = await api.call("POST", `/workflows/${plan.workflow}/executions`, {
        id: plan.id,
        input: plan.input,
      });
      startsAnswered++;
      op(plan.id, "start", started);
      // 200: a retried start whose first try was committed (idempotent on the id).
      if (started.status !== 202 && !(started.status === 200 && started.tries > 1))
        problem(
          "API answer",
          `${plan.id}: start answered ${started.status} (try ${started.tries}): ${JSON.stringify(started.body)}`,
        );
      for (const [index, signal] of (plan.signals ?? []).entries()) {
        await sleep(signal.delay);
        const sent = await api.call("POST", `/executions/${plan.id}/events`, {
          event: "go",
          id: signal.id,
          payload: signal.payload,
        });
        op(plan.id, `event ${signal.id}`, sent);
        // Only the last event's retry may find the execution ended (its first try was delivered).
        const last = index === (plan.signals?.length ?? 0) - 1;
        const ended = sent.status === 409 && sent.body?.error?.code === "EXECUTION_ENDED";
        if (sent.status !== 202 && !(ended && last && sent.tries > 1))
          problem(
            "API answer",
            `${plan.id}: event ${signal.id} answered ${sent.status} (try ${sent.tries}): ${JSON.stringify(sent.body)}`,
          );
      }
      if (plan.cancelAfter !== undefined) {
        await sleep(plan.cancelAfter);
        const cancelled = await api.call("POST", `/executions/${plan.id}/cancel`, {
          reason: "soak",
        });
        op(plan.id, "cancel", cancelled);
        const ended = cancelled.status === 409 && cancelled.body?.error?.code === "EXECUTION_ENDED";
        if (cancelled.status === 202 || (ended && cancelled.tries > 1))
          cancelAcks.set(plan.id, cancelled.at);
        else
          problem(
            "API answer",
            `${plan.id}: cancel answered ${cancelled.status} (try ${cancelled.tries}): ${JSON.stringify(cancelled.body)}`,
          );
      }
    };

    const driven = Promise.all(plans.map(drive));
    const killer = async () => {
      for (const [index, uptime] of uptimes.entries()) {
        // Up counts from its first answer: on a loaded machine a restart takes seconds to
        // serve, and a kill before then would only ever hit recovery, never steady work.
        await Promise.race([api.answering(), driven, deadline(10_000)]);
        await sleep(uptime);
        const answering = api.firstAnswerMs;
        api.down();
        const { calls } = readCalls();
        await dev.kill();
        killedAt.push(Date.now());
        keepLog(dev);
        timeline.push(
          `${since(Date.now())} kill ${index + 1} (SIGKILL): ${startsAnswered}/${plans.length} starts answered, ${calls.length} activity calls so far; its first API answer came ${answering === undefined ? "never" : `${answering} ms after it was up`}`,
        );
        dev = await startDev(dir, ["--no-watch"]);
        api.up(dev.url);
        timeline.push(`${since(Date.now())} up again (pid ${dev.child.pid})`);
      }
    };

    await Promise.all([driven, killer()]);
    timeline.push(
      `${since(Date.now())} every start, event and cancel answered; the last restart is done`,
    );

    // Every execution ends: poll the ones still running.
    const ended = new Map<string, Answer["body"]>();
    const lastSeen = new Map<string, Answer["body"]>();
    const drainStart = Date.now();
    let lastMove = drainStart;
    const fingerprints = new Map<string, string>();
    for (;;) {
      const open = plans.filter((p) => !ended.has(p.id));
      await pool(open, 8, async (plan) => {
        const got = await api.call("GET", `/executions/${plan.id}`);
        const seen = got.status === 200 ? got.body : { answered: got.status, body: got.body };
        lastSeen.set(plan.id, seen);
        const fingerprint = JSON.stringify([
          seen.status,
          seen.transitions,
          seen.current?.map((c: { thread: string; state: string; attempt: number }) => [
            c.thread,
            c.state,
            c.attempt,
          ]),
        ]);
        if (fingerprints.get(plan.id) !== fingerprint) lastMove = Date.now();
        fingerprints.set(plan.id, fingerprint);
        if (got.status === 200 && got.body.status !== "running") ended.set(plan.id, got.body);
      });
      if (ended.size === plans.length) break;
      if (Date.now() - lastMove > QUIET_MS || Date.now() - drainStart > DRAIN_CAP_MS) break;
      await sleep(500);
    }
    timeline.push(
      `${since(Date.now())} ${ended.size}/${plans.length} ended${ended.size < plans.length ? ` (the rest did not move for ${Math.round((Date.now() - lastMove) / 1000)} s)` : ""}`,
    );

    // Still running: where each one is, what its history ends with, what the API answered it.
    const stuck = plans.filter((p) => !ended.has(p.id));
    const stuckWhere = new Map<string, number>();
    for (const plan of stuck) {
      const body = lastSeen.get(plan.id);
      const where =
        (body?.current as { state: string; waiting?: string }[] | undefined)
          ?.map((c) => `${c.state}(${c.waiting ?? "?"})`)
          .join(",") ?? JSON.stringify(body);
      const key = `${plan.workflow} at ${where}`;
      stuckWhere.set(key, (stuckWhere.get(key) ?? 0) + 1);
    }
    for (const [where, count] of stuckWhere)
      problem("stuck at", `${count} execution(s) of ${where}`);
    for (const plan of stuck.slice(0, 25)) {
      const body = lastSeen.get(plan.id);
      const history = await api.call("GET", `/executions/${plan.id}/history?limit=1000`);
      const events = (history.body?.events ?? []) as {
        type: string;
        state?: string;
        thread?: string;
      }[];
      problem(
        "never ended",
        `${plan.id} (${plan.workflow}): status ${body?.status}, current ${JSON.stringify(body?.current)}; API: ${(ops.get(plan.id) ?? []).join(", ")}; history ends ${events
          .slice(-5)
          .map((e) => `${e.type}${e.state ? `:${e.state}` : ""}@${e.thread}`)
          .join(" ")}`,
      );
    }
    if (stuck.length > 25) problem("never ended", `... and ${stuck.length - 25} more`);

    // Each ended one: its status, output or error, and one terminal history event.
    await pool(
      plans.filter((p) => ended.has(p.id)),
      8,
      async (plan) => {
        const body = ended.get(plan.id);
        const want = plan.expected;
        const answered = (ops.get(plan.id) ?? []).join(", ");
        if (body.status !== want.status)
          problem(
            "wrong status",
            `${plan.id} (${plan.workflow}) ended ${body.status}, expected ${want.status}: error ${JSON.stringify(body.error)}; API: ${answered}`,
          );
        else if (want.status === "succeeded") {
          try {
            assert.deepStrictEqual(body.output, want.output);
          } catch {
            problem(
              "wrong output",
              `${plan.id} (${plan.workflow}) output ${JSON.stringify(body.output)}, expected ${JSON.stringify(want.output)}; API: ${answered}`,
            );
          }
        } else if (
          body.error?.name !== want.error?.name ||
          (want.error?.message !== undefined && body.error?.message !== want.error.message)
        )
          problem(
            "wrong error",
            `${plan.id} (${plan.workflow}) error ${JSON.stringify(body.error)}, expected ${JSON.stringify(want.error)}`,
          );

        const events: { type: string }[] = [];
        let cursor: string | undefined;
        do {
          const page = await api.call(
            "GET",
            `/executions/${plan.id}/history?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
          );
          if (page.status !== 200) {
            problem("history", `${plan.id}: history answered ${page.status}`);
            break;
          }
          events.push(...page.body.events);
          cursor = page.body.cursor;
        } while (cursor);
        const count = (type: string) => events.filter((e) => e.type === type).length;
        const terminal = Object.values(TERMINAL_EVENTS).map((t) => `${t}×${count(t)}`);
        const total = Object.values(TERMINAL_EVENTS).reduce((sum, t) => sum + count(t), 0);
        if (total !== 1 || count(TERMINAL_EVENTS[body.status as Status] ?? "?") !== 1)
          problem(
            "terminal history events",
            `${plan.id} (${plan.workflow}, ${body.status}): ${total} (${terminal.join(", ")}), ${events.length} events in all`,
          );
        if (count("ExecutionStarted") !== 1)
          problem(
            "ExecutionStarted events",
            `${plan.id} (${plan.workflow}): ${count("ExecutionStarted")}, ${events.length} events in all`,
          );
      },
    );

    // Side effects: every step ran as often as the workflow says, each attempt with its own key.
    const { calls, torn } = readCalls();
    const starts = calls.filter((c) => c.what === "start");
    const byExecution = new Map<string, Call[]>();
    for (const call of starts)
      byExecution.set(call.execution, [...(byExecution.get(call.execution) ?? []), call]);
    let duplicates = 0;
    const late: { text: string; afterKill: boolean }[] = [];
    for (const plan of plans) {
      const mine = byExecution.get(plan.id) ?? [];
      // One step of one thread: its step key, the same across the step's attempts.
      const steps = new Map<string, { state: string; attempts: Map<number, string[]> }>();
      for (const call of mine) {
        const step = call.step;
        const entry = steps.get(step) ?? { state: call.state, attempts: new Map() };
        entry.attempts.set(call.attempt, [...(entry.attempts.get(call.attempt) ?? []), call.key]);
        steps.set(step, entry);
      }
      const highest: Record<string, number[]> = {};
      for (const [step, { state, attempts }] of steps) {
        const numbers = sorted([...attempts.keys()]);
        const top = numbers.at(-1) ?? 0;
        if (
          numbers.join() !==
          range(top)
            .map((i) => i + 1)
            .join()
        )
          problem("steps", `${plan.id}: ${step} ran attempts ${numbers.join(",")} (a gap)`);
        const keys = [...attempts.values()].map((k) => new Set(k));
        if (
          keys.some((k) => k.size !== 1) ||
          new Set(keys.flatMap((k) => [...k])).size !== keys.length
        )
          problem(
            "attempt keys",
            `${plan.id}: ${step} keys ${JSON.stringify([...attempts])} (one key per attempt)`,
          );
        for (const k of attempts.values()) duplicates += k.length - 1;
        highest[state] = sorted([...(highest[state] ?? []), top]);
      }
      if (plan.expected.status === "cancelled") {
        if (highest.Unreachable !== undefined)
          problem("steps", `${plan.id}: Unreachable ran, past an event nobody sent`);
        const acked = cancelAcks.get(plan.id);
        if (acked !== undefined)
          for (const call of mine)
            if (call.at > acked)
              late.push({
                text: `${plan.id}/${call.key.split("/").slice(1, -2).join("/")} +${call.at - acked} ms`,
                afterKill: killedAt.some((k) => k > acked && k < call.at),
              });
      } else if (ended.get(plan.id)?.status === plan.expected.status) {
        try {
          assert.deepStrictEqual(highest, plan.expected.attempts);
        } catch {
          problem(
            "steps",
            `${plan.id} (${plan.workflow}): ran ${JSON.stringify(highest)}, expected ${JSON.stringify(plan.expected.attempts)}`,
          );
        }
      }
    }

    const running = await api.call("GET", "/executions?status=running&limit=100");
    const listedRunning = ((running.body?.items ?? []) as { id: string }[])
      .map((e) => e.id)
      .filter((id) => ended.has(id));
    const lateAfterKill = late.filter((l) => l.afterKill);
    console.log(
      [
        ...timeline,
        `api: ${api.networkErrors} calls cut off by a kill, ${api.serverErrors} answered 5xx, all retried`,
        `activities: ${starts.length} starts, ${duplicates} repeated deliveries of an attempt (allowed), ${torn} torn log lines`,
        `cancel: ${cancelAcks.size} acknowledged; ${late.length} activity starts after the acknowledgement (${lateAfterKill.length} with a kill in between)${
          late.length > 0
            ? `: ${late
                .slice(0, 12)
                .map((l) => `${l.text}${l.afterKill ? " (kill between)" : ""}`)
                .join("; ")}${late.length > 12 ? " ..." : ""}`
            : ""
        }`,
        `list ?status=running (first page): ${listedRunning.length} ended executions listed as running${listedRunning.length > 0 ? ` (${listedRunning.slice(0, 10).join(", ")})` : ""}`,
        `${since(Date.now())} checked; data in ${dir}`,
      ]
        .map((line) => `soak: ${line}`)
        .join("\n"),
    );
  } finally {
    const stopping = Date.now();
    const stopped = await Promise.race([dev.stop(), deadline(60_000)]);
    console.log(`soak: SIGTERM: cascade dev exited ${stopped} after ${Date.now() - stopping} ms`);
    if (stopped === "timeout") {
      await dev.kill();
      problem("stop", "cascade dev did not stop within 60 s of SIGTERM");
    } else if (stopped !== 0) problem("stop", `cascade dev stopped with exit code ${stopped}`);
    keepLog(dev);
  }
  if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
  const kinds = new Map<string, string[]>();
  for (const { kind, text } of problems) kinds.set(kind, [...(kinds.get(kind) ?? []), text]);
  assert.equal(
    problems.length,
    0,
    `${problems.length} problem(s) (seed ${SEED}, data in ${dir}): ${[...kinds]
      .map(([kind, list]) => `${list.length} ${kind}`)
      .join(", ")}\n${[...kinds]
      .map(
        ([kind, list]) =>
          `${kind}:\n  ${list.slice(0, 40).join("\n  ")}${list.length > 40 ? `\n  ... ${list.length - 40} more` : ""}`,
      )
      .join("\n")}`,
  );
});
