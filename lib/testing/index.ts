/**
 * The testing kit (`cascade-workflows/testing`): runs a workflow of your app in this
 * process, on the in-memory stack (the runtime Cascade runs on Lambda, with in-memory
 * store, queues and payloads that enforce AWS's size limits) and a virtual clock: a
 * one-hour Wait, a retry's backoff or a 15-minute timer chain take no time. Activities
 * are your own, or scripted per activity and attempt. It uses no test runner's API, so
 * it works the same under `node:test`, Vitest and Jest.
 *
 * ```ts
 * const env = await createTestEnv({ appDir: ".", activities: { charge: [{ error: { name: "Declined" } }] } });
 * const run = await env.run("Checkout", { amount: 10 });
 * assert.equal(run.status, "failed");
 * ```
 */
import { MemoryResultCache } from "../adapters/memory/cache.ts";
import { MemoryObjectStore } from "../adapters/memory/objects.ts";
import { MemoryPayloadStore } from "../adapters/memory/payloads.ts";
import { MemoryQueues } from "../adapters/memory/queue.ts";
import { MemoryExecutionStore } from "../adapters/memory/store.ts";
import { TieredCache } from "../adapters/tiered-cache.ts";
import { workerPoolsOf } from "../app/check.ts";
import { loadApp } from "../app/load.ts";
import type { ActivityContext, ActivityFunction } from "../core/activity.ts";
import type { HistoryEvent, WorkflowError } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { MessageQueue } from "../core/ports.ts";
import { workerQueue } from "../manifest/index.ts";
import { DefinitionRegistry } from "../runtime/definitions.ts";
import { Runtime, TRANSITIONS } from "../runtime/runtime.ts";

export type { ActivityContext, HistoryEvent, JsonValue, WorkflowError };

/** What a scripted activity does on one attempt: return `ok`, or throw `error`. */
export type Outcome =
  | { readonly ok: JsonValue }
  | {
      readonly error: {
        readonly name: string;
        readonly message?: string;
        /** False: no `retry` rule retries it. */
        readonly retryable?: boolean;
      };
    };

/**
 * An activity in a test: a function (your own, or a stand-in, called as Cascade calls
 * activities), or outcomes by attempt — the first for attempt 1, and so on, the last
 * repeating.
 */
export type TestActivity =
  | ((input: never, context: ActivityContext) => unknown)
  | readonly [Outcome, ...Outcome[]];

export interface TestEnvOptions {
  /** Your app's folder (with cascade.yaml, workflows/ and activities/). */
  readonly appDir: string;
  /** Activities to use instead of the app's, by name (the others stay the app's own). */
  readonly activities?: Readonly<Record<string, TestActivity>>;
  /** Don't import the app's activity modules: only `activities` exist. Default false. */
  readonly skipAppActivities?: boolean;
  /** The virtual clock's start, epoch ms. Default 2026-01-01T00:00:00Z. */
  readonly start?: number;
}

/** An external event sent to the execution `after` ms (virtual) from its start. */
export interface TestEvent {
  readonly name: string;
  readonly payload?: JsonValue;
  readonly after: number;
}

export interface RunOptions {
  readonly id?: string;
  readonly tenant?: string;
  readonly events?: readonly TestEvent[];
  /** Cancel the execution this many ms (virtual) after its start. */
  readonly cancelAfter?: number;
  /** Give up after this many deliveries (a runaway guard). Default 100,000. */
  readonly maxDeliveries?: number;
}

/** One call of an activity during a run. */
export interface ActivityCall {
  readonly activity: string;
  readonly attempt: number;
  readonly input: JsonValue;
  /** Virtual ms since the run's start. */
  readonly at: number;
}

export interface RunResult {
  readonly executionId: string;
  /** `running` when the execution still waits on something when no message is left (an event never sent). */
  readonly status: "running" | "succeeded" | "failed" | "cancelled";
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
  /** The execution's history, in order, every thread. */
  readonly history: readonly HistoryEvent[];
  /** Every activity attempt, in order. */
  readonly calls: readonly ActivityCall[];
  /** Virtual time the run took, in ms. */
  readonly elapsedMs: number;
  /** Activity log and metric lines. */
  readonly logs: readonly string[];
}

/** The in-process stack of one app, for tests. */
export interface TestEnv {
  /** Runs `workflow` with `input` to its end (or until nothing is left to deliver). */
  run(workflow: string, input: JsonValue, options?: RunOptions): Promise<RunResult>;
  /** The virtual clock, epoch ms. */
  now(): number;
  /** The workflows of the app, by name. */
  readonly workflows: readonly string[];
  /**
   * The S3 buckets Maps with `item_reader:`/`result_writer:` use, in memory: create a
   * bucket and put the items object before a run (`env.objects.createBucket("in")`,
   * `await env.objects.put("in", "orders.jsonl", text)`), read the results after.
   */
  readonly objects: MemoryObjectStore;
}

const scripted =
  (name: string, outcomes: readonly Outcome[]): ActivityFunction =>
  (_input: never, context: ActivityContext) => {
    const outcome = outcomes[Math.min(context.attempt, outcomes.length) - 1];
    if (outcome === undefined) throw new Error(`no scripted outcome for ${name}`);
    if ("ok" in outcome) return outcome.ok;
    throw Object.assign(new Error(outcome.error.message ?? outcome.error.name), {
      name: outcome.error.name,
      ...(outcome.error.retryable === false ? { retryable: false } : {}),
    });
  };

/**
 * Reads the app in `appDir` (its cascade.yaml, workflows and, unless skipped, activity
 * modules) and builds the in-memory stack for it.
 * @throws AppConfigError when cascade.yaml has errors; ActivityLoadError when a module fails to load.
 */
export async function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  const app = await loadApp(options.appDir);
  let now = options.start ?? Date.UTC(2026, 0, 1);
  let runStart = now;
  const clock = { now: () => now };
  const store = new MemoryExecutionStore();
  const queues = new MemoryQueues({
    now: clock.now,
    visibilityTimeoutMs: 30_000,
    maxReceiveCount: 5,
  });
  const queue: MessageQueue = { send: (messages, at) => queues.send(messages, at) };
  const definitions = new DefinitionRegistry(store);
  for (const w of app.workflows) definitions.register(w.source, w.file, w.defaultName);
  const names = definitions.names();

  const calls: ActivityCall[] = [];
  const activities = new Map<string, ActivityFunction>(
    options.skipAppActivities ? [] : app.activities,
  );
  for (const [name, given] of Object.entries(options.activities ?? {}))
    activities.set(
      name,
      typeof given === "function" ? (given as ActivityFunction) : scripted(name, given),
    );
  const recorded = new Map<string, ActivityFunction>();
  for (const [name, fn] of activities) {
    recorded.set(name, (input: never, context: ActivityContext) => {
      calls.push({
        activity: name,
        attempt: context.attempt,
        input: input as JsonValue,
        at: now - runStart,
      });
      return fn(input, context);
    });
  }

  const pools = workerPoolsOf(names.map((name) => definitions.current(name).definition));
  const logs: string[] = [];
  const cache = app.config.cache.enabled
    ? new TieredCache(new MemoryResultCache(clock), {
        clock,
        defaultTtlMs: app.config.cache.ttlSeconds * 1000,
      })
    : undefined;
  const objects = new MemoryObjectStore();
  const runtime = new Runtime(
    {
      store,
      queue,
      payloads: new MemoryPayloadStore(),
      objects,
      clock,
      definitions,
      activities: recorded,
      ...(cache ? { cache } : {}),
    },
    {
      app: app.config.name,
      log: (line) => logs.push(line),
      conflictBackoffMs: 0,
      workerRegions: pools,
      offloadThresholdBytes: app.config.offloadThresholdBytes,
      retentionDays: app.config.retentionDays,
    },
  );
  const queueNames = [TRANSITIONS, ...[...pools].map(workerQueue)];

  /** Delivers what is visible now; returns how many messages it delivered. */
  const deliverVisible = async (): Promise<number> => {
    let delivered = 0;
    for (;;) {
      let got = 0;
      for (const name of queueNames) {
        const q = queues.queue(name);
        for (const message of await q.receive(10)) {
          got++;
          try {
            await runtime.handle(message.envelope, message.receiveCount);
            await q.delete([message.receipt]);
          } catch (error) {
            await runtime.noteFailure(message.envelope, error).catch(() => {});
            await q.release(message.receipt, 1_000);
          }
        }
        for (const dead of q.dead.splice(0)) await runtime.deadLetter(dead);
      }
      delivered += got;
      if (got === 0) return delivered;
    }
  };
  const nextVisible = (): number | undefined =>
    queueNames
      .map((n) => queues.queue(n).nextVisibleAt())
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b)[0];

  return {
    workflows: names,
    objects,
    now: clock.now,
    async run(workflow, input, runOptions = {}) {
      const tenant = runOptions.tenant ?? "default";
      runStart = now;
      const firstCall = calls.length;
      const firstLog = logs.length;
      const started = await runtime.startExecution(workflow, input, {
        tenant,
        ...(runOptions.id ? { id: runOptions.id } : {}),
      });
      const id = started.executionId;
      const pending = [
        ...(runOptions.events ?? []).map((e) => ({ at: runStart + e.after, event: e })),
        ...(runOptions.cancelAfter === undefined
          ? []
          : [{ at: runStart + runOptions.cancelAfter, event: undefined }]),
      ].sort((a, b) => a.at - b.at);
      let deliveries = 0;
      const limit = runOptions.maxDeliveries ?? 100_000;
      for (;;) {
        deliveries += await deliverVisible();
        const view = await store.getExecution(tenant, id);
        if (view?.thread.status !== "running" || deliveries >= limit) break;
        const message = nextVisible();
        const due = pending[0];
        if (due && (message === undefined || due.at <= message)) {
          pending.shift();
          now = Math.max(now, due.at);
          if (due.event)
            await runtime.signal(tenant, id, due.event.name, due.event.payload ?? null);
          else await runtime.cancel(tenant, id, "cancelled by the test");
          continue;
        }
        if (message === undefined) break;
        now = Math.max(now, message);
      }
      const view = await store.getExecution(tenant, id);
      const history: HistoryEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.readHistory(tenant, id, 1_000, cursor);
        history.push(...page.items);
        cursor = page.cursor;
      } while (cursor !== undefined);
      const thread = view?.thread;
      const data = thread ? await runtime.codec.load(thread.data) : undefined;
      return {
        executionId: id,
        status: (thread?.status ?? "running") as RunResult["status"],
        ...(thread?.status === "succeeded" && data !== undefined ? { output: data } : {}),
        ...(thread?.error ? { error: thread.error } : {}),
        history,
        calls: calls.slice(firstCall),
        elapsedMs: now - runStart,
        logs: logs.slice(firstLog),
      };
    },
  };
}
