/**
 * A seeded, virtual-time simulation of Cascade as it runs on AWS, driven only
 * through the runtime's public surface (`Runtime`, `processBatch`, `handle`,
 * `startExecution`, `signal`, `cancel`, `deadLetter`, `noteFailure`).
 *
 * What it models:
 * - K engine consumers (and worker consumers per worker queue) polling one queue
 *   each, interleaved: every store, queue and payload call takes a random
 *   latency in virtual time, so invocations overlap and their conditional writes
 *   race for real;
 * - Lambda's SQS event source: batches, partial batch failures, the visibility
 *   timeout (a failed or unfinished message comes back when it expires), receive
 *   counts and the DLQ after `maxReceiveCount` (5 in production), whose handler
 *   calls `runtime.deadLetter`;
 * - duplicates: a copy delivered to another consumer while the first still runs
 *   (both with receive count 1), and lost deletes (redelivery after visibility);
 * - function timeouts: an invocation still running at its function's timeout is
 *   killed — its promise is abandoned, its process (a "container": one Runtime
 *   instance and the ports it calls through) is dead, and its messages come back
 *   after the visibility timeout;
 * - activities that take virtual time (`ctx.sleep`) and whose outcome can differ
 *   on a re-run (`ctx.run` counts the calls with one idempotency key);
 * - crashes (the process dies: nothing after that point happens) before or after
 *   any write of any port, transient errors before or after a write (the caller
 *   sees an error; after: the write landed anyway), sends that die half way;
 * - the HTTP path: start, signal and cancel run in an API container with the same
 *   faults (or a crash planned after its n-th write), with or without a client
 *   that retries;
 * - a reconciler, if the runtime has one (`runtime.reconcile()`, feature-detected),
 *   run whenever the system is otherwise quiet.
 *
 * Time is virtual: the runtime's clock, and — while `run()` is on — `setTimeout`,
 * `clearTimeout` and `Math.random` called from inside a container (activity
 * timeouts and heartbeats, the conflict backoff) are the simulation's, so a seed
 * replays exactly. It observes, black-box: every activity call, every message sent
 * (size, id length), every item written (DynamoDB's size rule), the executions'
 * status after every store write (when each ended, when a cancel committed), and
 * every delivery's fate.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  AwsLimitError,
  assertItemWithinLimits,
  dynamoItemBytes,
} from "../../lib/adapters/memory/limits.ts";
import { MemoryPayloadStore } from "../../lib/adapters/memory/payloads.ts";
import { MemoryQueues, receiptSlot } from "../../lib/adapters/memory/queue.ts";
import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import type { HistoryEvent } from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type {
  ExecutionStore,
  ExecutionView,
  MessageQueue,
  OutMessage,
  PayloadStore,
  ReceivedMessage,
  ResultCache,
} from "../../lib/core/ports.ts";
import { QUEUE_DEFAULTS, SQS_MESSAGE_LIMIT_BYTES } from "../../lib/manifest/index.ts";
import type { ActivityContext, ActivityFunction } from "../../lib/runtime/activities.ts";
import { processBatch } from "../../lib/runtime/batch.ts";
import { DefinitionRegistry } from "../../lib/runtime/definitions.ts";
import { Runtime, StartError, TRANSITIONS } from "../../lib/runtime/runtime.ts";

/** Message ids longer than this are a finding: ids must not grow with the steps or items of an execution. */
export const MAX_MESSAGE_ID_LENGTH = 256;

// ---------------------------------------------------------------------------
// Options and records

export interface Faults {
  /** Per write (store, payload put, send): the process dies just before or just after it. */
  readonly crash?: number;
  /** Per write: an error is thrown before it (nothing written) or after it (written anyway); the process lives. */
  readonly transient?: number;
  /** Per delivered message: its delete is lost, so it comes back after the visibility timeout. */
  readonly lostDelete?: number;
  /** Per delivered message: a second copy reaches another consumer while the first still runs. */
  readonly duplicate?: number;
  /** Per send of several messages: the process dies after only some of them were sent. */
  readonly partialSend?: number;
  /** Up to this many ms added to each message's delivery time (reordering). */
  readonly jitterMs?: number;
}

/** Where a planned crash hits an HTTP call's first attempt: its n-th write (from 1), counted over every port. */
export type CrashPlan = { readonly afterWrite: number } | { readonly beforeWrite: number };

/** One port call, as a fault plan sees it (before the call, and after it returned). */
export interface PortOp {
  /** The container (process) making it, e.g. `engine-0#3`, `api#7`. */
  readonly container: string;
  readonly kind: PortKind;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly write: boolean;
  readonly phase: "before" | "after";
}

/** A fault at one port call: the process dies ("crash"), or the caller gets an error ("error"). */
export type FaultPlan = (op: PortOp, sim: Simulation) => "crash" | "error" | undefined;

/**
 * A plan that crashes the process (or, with `fault: "error"`, throws to the caller)
 * at the `n`-th write (from 1) made after `when` first holds, in containers whose
 * id starts with `role` (any by default), just `before` or just `after` it.
 * `fired()` tells whether it did.
 */
export function crashAtWrite(options: {
  readonly n: number;
  readonly phase: "before" | "after";
  readonly role?: string;
  readonly when?: (sim: Simulation) => boolean;
  readonly fault?: "crash" | "error";
}): { readonly plan: FaultPlan; fired(): boolean } {
  let armed = options.when === undefined;
  let count = 0;
  let fired = false;
  return {
    fired: () => fired,
    plan: (op, sim) => {
      if (fired || !op.write) return undefined;
      if (options.role !== undefined && !op.container.startsWith(options.role)) return undefined;
      if (!armed) armed = options.when?.(sim) ?? true;
      if (!armed) return undefined;
      if (op.phase === "before") count++;
      if (count === options.n && op.phase === options.phase) {
        fired = true;
        return options.fault ?? "crash";
      }
      return undefined;
    },
  };
}

export interface SimulationOptions {
  readonly seed: number;
  readonly workflows: readonly { readonly file: string; readonly source: string }[];
  readonly activities: Readonly<Record<string, SimActivity>>;
  /** Engine consumers on the transition queue (K). Default 1. */
  readonly consumers?: number;
  /** Consumers per worker queue. Default 1. */
  readonly workerConsumers?: number;
  readonly workerRegions?: readonly string[];
  /** Records per invocation, 1–10. Default 10 (QUEUE_DEFAULTS.batchSize). */
  readonly batchSize?: number;
  /** Hand records to `processBatch` (the Lambda handler's way, default) or to `runtime.handle` one by one. */
  readonly batches?: boolean;
  /** Default: six times the engine function's timeout, as the CDK construct sets it. */
  readonly visibilityTimeoutMs?: number;
  /** The engine function's timeout. Default 60 s. */
  readonly functionTimeoutMs?: number;
  /** The worker function's timeout. Default 5 min. */
  readonly workerTimeoutMs?: number;
  /** The API function's timeout. Default 30 s. */
  readonly apiTimeoutMs?: number;
  /** Default 5 (production). */
  readonly maxReceiveCount?: number;
  /** Each port call takes 0..latencyMs of virtual time. Default 2. */
  readonly latencyMs?: number;
  readonly faults?: Faults;
  /** Targeted faults, decided per port call (with `crashAtWrite`, sweeps over every write). */
  readonly plan?: FaultPlan;
  readonly offloadThresholdBytes?: number;
  readonly inline?: boolean;
  readonly cache?: ResultCache;
  /** Maps of this many items or more keep a wide (sharded) join. Default the runtime's. */
  readonly wideJoinFrom?: number;
  readonly conflictBackoffMs?: number;
  /** Epoch ms of the start. Default 2026-01-01. */
  readonly start?: number;
  /** Give up after this much virtual time. Default 40 days. */
  readonly horizonMs?: number;
  /** Give up after this many scheduler steps. Default 2,000,000. */
  readonly maxSteps?: number;
  /** Virtual time the system must be quiet before the reconciler runs. Default 10 min. */
  readonly reconcileAfterMs?: number;
  /** Reconciler rounds at most (each run when the system is quiet). Default 20. */
  readonly reconcileRounds?: number;
}

/** What an activity receives in a simulation: the runtime's context plus virtual time. */
export interface SimActivityContext extends ActivityContext {
  /** 1 for the first call with this idempotency key, 2 for the second (a re-run), … */
  readonly run: number;
  /** Sleeps in virtual time; never returns if the process is killed meanwhile. */
  sleep(ms: number): Promise<void>;
  now(): number;
}

export type SimActivity = (input: never, context: SimActivityContext) => unknown;

export interface ActivityCall {
  readonly activity: string;
  readonly key: string;
  readonly attempt: number;
  readonly state: string;
  readonly executionId: string;
  readonly workflow: string;
  /** The input as JSON text. */
  readonly input: string;
  readonly run: number;
  readonly container: string;
  readonly startedAt: number;
  /** Position in the simulation's global order of observations. */
  readonly seq: number;
  endedAt?: number;
  outcome?: { ok: JsonValue } | { error: { name: string; message: string } };
}

/** What happened to one delivery of a message. */
export type DeliveryFate =
  | "deleted"
  | "lost-delete"
  | "crash"
  | "failed-injected"
  | "timeout"
  /** Deleted with the receipt of an earlier delivery (it had become visible and was received again): SQS keeps it. */
  | "stale-delete"
  | `failed: ${string}`;

const INJECTED: ReadonlySet<string> = new Set(["lost-delete", "crash", "failed-injected"]);

/** One delivery of one message. */
export interface Delivery {
  readonly queue: string;
  readonly slot: number;
  readonly mid: string;
  readonly kind: string;
  readonly tenant: string;
  readonly executionId: string;
  readonly receiveCount: number;
  readonly at: number;
  readonly container: string;
  fate?: DeliveryFate;
}

export interface DeadLetter {
  readonly queue: string;
  readonly mid: string;
  readonly kind: string;
  readonly executionId: string;
  readonly tenant: string;
  /** The fate of each of its deliveries. */
  readonly deliveries: readonly DeliveryFate[];
  /** True when every delivery failed by an injected fault (bad luck, not a finding). */
  readonly unlucky: boolean;
  handled: boolean;
}

export interface HttpAttempt {
  readonly container: string;
  outcome: "ok" | "error" | "crash" | "timeout";
  error?: string;
}

export interface HttpCall {
  readonly kind: "start" | "signal" | "cancel";
  readonly tenant: string;
  readonly executionId: string;
  readonly attempts: HttpAttempt[];
  done: boolean;
  /** The value of the last attempt that returned. */
  value?: unknown;
  /** The error of the last attempt, if none returned. */
  error?: string;
  settledAt?: number;
}

/** An execution the simulation watches: its root's status after every store write. */
export interface Tracked {
  readonly tenant: string;
  readonly id: string;
  /** Root writes that took it from running (or nothing) to an end. */
  endings: number;
  firstEnd?: { seq: number; at: number; status: string };
  /** The ended root changed afterwards (status, data or error), or ran again. */
  changedAfterEnd?: string;
  /** When its root was first seen cancelled (the cancel's commit). */
  cancelledAt?: { seq: number; at: number };
  last?: string;
  snapshot?: string;
}

export interface SimulationReport {
  readonly settled: boolean;
  /** Why the run stopped, when it did not settle. */
  readonly reason?: string;
  /** Virtual ms from the start to the end. */
  readonly elapsedMs: number;
  readonly steps: number;
  readonly deliveries: number;
  readonly invocations: number;
  readonly crashes: number;
  readonly kills: number;
  readonly reconcilerRounds: number;
  readonly maxMessageIdLength: number;
  readonly maxMessageBytes: number;
  readonly maxItemBytes: number;
}

// ---------------------------------------------------------------------------
// Internals

/** A process: one Runtime instance, the calls it makes, and whether it still lives. */
class Container {
  readonly id: string;
  readonly runtime: Runtime;
  dead = false;
  cause?: "crash" | "timeout";
  /** Where an injected crash hit it, for diagnostics. */
  crashedAt?: string;
  /** Injected faults seen since the last reset (one invocation). */
  faults = 0;
  writes = 0;
  plan: CrashPlan | undefined;
  readonly died: Promise<void>;
  #resolve: () => void = () => {};

  constructor(id: string, runtime: (container: Container) => Runtime) {
    this.id = id;
    this.died = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.runtime = runtime(this);
  }

  die(cause: "crash" | "timeout"): void {
    if (this.dead) return;
    this.dead = true;
    this.cause = cause;
    this.#resolve();
  }
}

interface Scope {
  readonly sim: Simulation;
  readonly container: Container;
}

const scope = new AsyncLocalStorage<Scope>();

/** A transient failure injected into a port call (throttling, a network error, a timeout after the write). */
export class InjectedFault extends Error {
  constructor(where: string) {
    super(`injected transient failure ${where}`);
    this.name = "InjectedFault";
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  readonly owner: Container | undefined;
  cancelled: boolean;
}

/** A binary heap of timers by (at, seq). */
class TimerHeap {
  readonly #items: Timer[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(timer: Timer): void {
    const items = this.#items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Timer, items[parent] as Timer)) break;
      [items[i], items[parent]] = [items[parent] as Timer, items[i] as Timer];
      i = parent;
    }
  }

  peek(): Timer | undefined {
    return this.#items[0];
  }

  pop(): Timer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l] as Timer, items[m] as Timer)) m = l;
        if (r < items.length && before(items[r] as Timer, items[m] as Timer)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as Timer, items[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** What `setTimeout` returns inside the simulation. */
class VirtualTimeout {
  readonly timer: Timer;
  constructor(timer: Timer) {
    this.timer = timer;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  close(): this {
    this.timer.cancelled = true;
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.timer.seq;
  }
}

export type PortKind = "store" | "payloads" | "queue";

// The store's reads by name: `recentSteps`, `stateAt`, `cancelRequested` and the others
// below read, and are neither crashed around nor counted as writes.
const READ =
  /^(get|read|list|peek|last|query|scan|find|describe|load|fetch|has|count|recent|stateAt$|cancelRequested$|eventWaiters$|bufferedEventConsumer$|links$|usageOf$)|Threads$/;

function isWrite(kind: PortKind, name: string): boolean {
  if (kind === "queue") return name === "send";
  if (kind === "payloads") return name === "put";
  return !READ.test(name);
}

/** The items a store write puts, approximately as DynamoDB would receive them. */
function itemsOf(name: string, args: readonly unknown[]): unknown[] {
  if (/^(put|create)/.test(name)) return [args[0]];
  if (name === "appendHistory") return [...((args[1] as unknown[]) ?? [])];
  if (name === "appendHistories")
    return ((args[0] as { events?: unknown[] }[]) ?? []).flatMap((e) => e.events ?? []);
  if (name === "bufferEvent") return [{ payload: args[4], id: args[2], order: args[3] }];
  return [];
}

interface Consumer {
  readonly id: string;
  readonly queue: string;
  readonly timeoutMs: number;
  container: Container | undefined;
  state: "idle" | "waking" | "busy";
  wake?: () => void;
  generation: number;
}

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------
// The simulation

export class Simulation {
  readonly options: SimulationOptions;
  /** The adapters themselves, for reading results (no faults, no latency). */
  readonly store: MemoryExecutionStore;
  readonly payloads: MemoryPayloadStore;
  readonly queues: MemoryQueues;
  readonly start: number;
  now: number;

  readonly calls: ActivityCall[] = [];
  readonly dead: DeadLetter[] = [];
  readonly http: HttpCall[] = [];
  readonly tracked: Tracked[] = [];
  /** AWS limits broken and ids too long: each a sentence. */
  readonly violations: string[] = [];
  /** Log lines of every container (activity logs, EMF metrics). */
  readonly lines: string[] = [];
  /** Errors the runtime reported for records, with their text (for diagnostics). */
  readonly errors: string[] = [];
  /** Every delivery, in order, with its fate. */
  readonly deliveryLog: Delivery[] = [];

  readonly #random: () => number;
  readonly #faults: Required<Faults>;
  readonly #timers = new TimerHeap();
  readonly #consumers: Consumer[] = [];
  readonly #deliveries = new Map<string, DeliveryFate[]>();
  readonly #runs = new Map<string, number>();
  readonly #duplicated = new Set<string>();
  readonly #latestReceive = new Map<string, number>();
  readonly #definitions: DefinitionRegistry;
  readonly #ports: { store: ExecutionStore; payloads: PayloadStore; queue: MessageQueue };
  readonly #activities: Map<string, ActivityFunction>;
  #seq = 0;
  #timerSeq = 0;
  #outstanding = 0;
  #containers = 0;
  #steps = 0;
  #deliveryCount = 0;
  #invocations = 0;
  #crashes = 0;
  #kills = 0;
  #reconcilerRounds = 0;
  #maxMid = 0;
  #maxMessage = 0;
  #maxItem = 0;
  #stopping = false;

  constructor(options: SimulationOptions) {
    this.options = options;
    this.start = options.start ?? Date.UTC(2026, 0, 1);
    this.now = this.start;
    this.#random = rng(options.seed * 2654435761 + 1);
    this.#faults = {
      crash: 0,
      transient: 0,
      lostDelete: 0,
      duplicate: 0,
      partialSend: 0,
      jitterMs: 0,
      ...options.faults,
    };
    this.store = new MemoryExecutionStore();
    this.payloads = new MemoryPayloadStore();
    const functionTimeout = options.functionTimeoutMs ?? 60_000;
    this.queues = new MemoryQueues({
      now: () => this.now,
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 6 * functionTimeout,
      maxReceiveCount: options.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount,
      onDeadLetter: (envelope, slot, queue) => this.#onDeadLetter(envelope, slot, queue),
    });
    this.#ports = {
      store: this.#port(this.store, "store"),
      payloads: this.#port(this.payloads, "payloads"),
      queue: this.#port(this.queues, "queue"),
    };
    this.#definitions = new DefinitionRegistry(this.#ports.store);
    for (const workflow of options.workflows)
      this.#definitions.register(workflow.source, workflow.file);
    this.#activities = new Map(
      Object.entries(options.activities).map(([name, fn]) => [name, this.#activity(name, fn)]),
    );
    for (let k = 0; k < (options.consumers ?? 1); k++)
      this.#consumers.push(this.#consumer(`engine-${k}`, TRANSITIONS, functionTimeout));
    for (const region of options.workerRegions ?? []) {
      for (let k = 0; k < (options.workerConsumers ?? 1); k++)
        this.#consumers.push(
          this.#consumer(
            `worker-${region}-${k}`,
            `worker:${region}`,
            options.workerTimeoutMs ?? 300_000,
          ),
        );
    }
  }

  /** A number in [0, 1) from the seed. */
  random(): number {
    return this.#random();
  }

  #reconciler: boolean | undefined;

  /**
   * True when the runtime has a reconciler (`runtime.reconcile({tenants})`, called with
   * the simulation's tenants), which the simulation then runs whenever it is otherwise quiet.
   */
  get hasReconciler(): boolean {
    this.#reconciler ??=
      typeof (this.#container("probe").runtime as unknown as { reconcile?: unknown }).reconcile ===
      "function";
    return this.#reconciler;
  }

  // -------------------------------------------------------------------------
  // The HTTP path and scheduled actions

  /** Starts an execution through the API at `at` ms of virtual time (default now). */
  startExecution(
    workflow: string,
    input: JsonValue,
    options: { id: string; tenant?: string } & HttpOptions,
  ): HttpCall {
    const tenant = options.tenant ?? "default";
    this.track(tenant, options.id);
    return this.#http("start", tenant, options.id, options, (runtime) =>
      runtime.startExecution(workflow, input, { id: options.id, tenant }),
    );
  }

  /** Sends an event through the API. */
  signal(
    tenant: string,
    id: string,
    event: string,
    payload: JsonValue,
    options: { eventId?: string } & HttpOptions = {},
  ): HttpCall {
    const eventId = options.eventId ?? `ev-${this.http.length}`;
    return this.#http("signal", tenant, id, options, (runtime) =>
      runtime.signal(tenant, id, event, payload, eventId),
    );
  }

  /** Cancels an execution through the API. */
  cancel(tenant: string, id: string, reason: string, options: HttpOptions = {}): HttpCall {
    return this.#http("cancel", tenant, id, options, (runtime) =>
      runtime.cancel(tenant, id, reason),
    );
  }

  /** Runs `action` at `at` ms of virtual time from now (it counts as outstanding work until it settles). */
  at(at: number, action: () => Promise<void> | void): void {
    this.#outstanding++;
    this.#schedule(this.now + at, () => {
      void (async () => {
        try {
          await action();
        } finally {
          this.#outstanding--;
        }
      })();
    });
  }

  /** Watches an execution's root: its endings and cancel commit. */
  track(tenant: string, id: string): Tracked {
    const known = this.tracked.find((t) => t.tenant === tenant && t.id === id);
    if (known) return known;
    const tracked: Tracked = { tenant, id, endings: 0 };
    this.tracked.push(tracked);
    return tracked;
  }

  #http(
    kind: HttpCall["kind"],
    tenant: string,
    executionId: string,
    options: HttpOptions,
    work: (runtime: Runtime) => Promise<unknown>,
  ): HttpCall {
    const call: HttpCall = { kind, tenant, executionId, attempts: [], done: false };
    this.http.push(call);
    const retries = options.retries ?? 0;
    this.at(options.at ?? 0, async () => {
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await this.sleep(options.retryDelayMs ?? 1_000);
        const container = this.#container("api");
        container.plan = attempt === 0 ? options.crash : undefined;
        const record: HttpAttempt = { container: container.id, outcome: "ok" };
        call.attempts.push(record);
        const outcome = await this.#race(
          container,
          () => work(container.runtime),
          this.options.apiTimeoutMs ?? 30_000,
        );
        if (outcome.kind === "done") {
          call.value = outcome.value;
          delete call.error;
          break;
        }
        record.outcome = outcome.kind;
        call.error = outcome.kind === "error" ? describe(outcome.error) : outcome.kind;
        record.error = call.error;
        // A refused request (4xx) is not retried: it would be refused again.
        if (outcome.kind === "error" && outcome.error instanceof StartError) break;
      }
      call.done = true;
      call.settledAt = this.now;
    });
    return call;
  }

  // -------------------------------------------------------------------------
  // Running

  /**
   * Runs until nothing is left to do: no message queued, delayed or in flight,
   * every consumer idle, every HTTP call settled, and (with a reconciler) a
   * reconciler round that found nothing. Or until the horizon or step budget.
   */
  async run(): Promise<SimulationReport> {
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const realRandom = Math.random;
    const sim = this;
    globalThis.setTimeout = function setTimeout(
      fn: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) {
      const inside = scope.getStore();
      if (!inside || inside.sim !== sim) return realSetTimeout(fn, ms, ...args);
      const timer = sim.#schedule(
        sim.now + Math.max(0, ms ?? 0),
        () => fn(...args),
        inside.container,
      );
      return new VirtualTimeout(timer);
    } as typeof globalThis.setTimeout;
    globalThis.clearTimeout = function clearTimeout(handle: unknown) {
      if (handle instanceof VirtualTimeout) {
        handle.timer.cancelled = true;
        return;
      }
      realClearTimeout(handle as Parameters<typeof realClearTimeout>[0]);
    } as typeof globalThis.clearTimeout;
    Math.random = () => {
      const inside = scope.getStore();
      return inside?.sim === sim ? sim.#random() : realRandom();
    };
    const horizon = this.start + (this.options.horizonMs ?? 40 * 86_400_000);
    const maxSteps = this.options.maxSteps ?? 2_000_000;
    let reason: string | undefined;
    try {
      for (const consumer of this.#consumers) void this.#consume(consumer);
      for (;;) {
        await settle();
        if (this.#wakeIdle()) continue;
        if (this.#quiet()) {
          if (await this.#reconcileRound()) continue;
          break;
        }
        const next = this.#nextTime();
        if (next === undefined) {
          reason = "nothing can move: work is pending but no timer or message will ever wake it";
          break;
        }
        if (next > horizon) {
          reason = `the horizon (${Math.round((horizon - this.start) / 3_600_000)} h of virtual time) passed with work pending`;
          break;
        }
        if (++this.#steps > maxSteps) {
          reason = `the step budget (${maxSteps}) ran out`;
          break;
        }
        this.now = Math.max(this.now, next);
        this.#fireDue();
      }
    } finally {
      this.#stopping = true;
      for (const consumer of this.#consumers) consumer.wake?.();
      globalThis.setTimeout = realSetTimeout;
      globalThis.clearTimeout = realClearTimeout;
      Math.random = realRandom;
    }
    await settle();
    return {
      settled: reason === undefined,
      ...(reason === undefined ? {} : { reason }),
      elapsedMs: this.now - this.start,
      steps: this.#steps,
      deliveries: this.#deliveryCount,
      invocations: this.#invocations,
      crashes: this.#crashes,
      kills: this.#kills,
      reconcilerRounds: this.#reconcilerRounds,
      maxMessageIdLength: this.#maxMid,
      maxMessageBytes: this.#maxMessage,
      maxItemBytes: this.#maxItem,
    };
  }

  /** Sleeps in virtual time; owned by a container, it never returns once that container died. */
  sleep(ms: number, owner: Container | undefined = scope.getStore()?.container): Promise<void> {
    return new Promise((resolve) => {
      this.#schedule(this.now + Math.max(0, ms), resolve, owner);
    });
  }

  #schedule(at: number, fire: () => void, owner?: Container): Timer {
    const timer: Timer = { at, seq: this.#timerSeq++, fire, owner, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  /** The next moment something happens: a live timer, or a message becoming visible for an idle consumer. */
  #nextTime(): number | undefined {
    let next: number | undefined;
    for (;;) {
      const top = this.#timers.peek();
      if (!top) break;
      if (top.cancelled || top.owner?.dead) {
        this.#timers.pop();
        continue;
      }
      next = top.at;
      break;
    }
    for (const name of this.#queueNames()) {
      if (!this.#consumers.some((c) => c.queue === name && c.state === "idle")) continue;
      const visible = this.queues.queue(name).nextVisibleAt();
      if (visible !== undefined && (next === undefined || visible < next)) next = visible;
    }
    return next;
  }

  #fireDue(): void {
    for (;;) {
      const top = this.#timers.peek();
      if (!top || top.at > this.now) return;
      this.#timers.pop();
      if (top.cancelled || top.owner?.dead) continue;
      top.fire();
    }
  }

  #queueNames(): string[] {
    return [TRANSITIONS, ...(this.options.workerRegions ?? []).map((r) => `worker:${r}`)];
  }

  #quiet(): boolean {
    return (
      this.#outstanding === 0 &&
      this.#consumers.every((c) => c.state === "idle") &&
      this.queues.pending() === 0
    );
  }

  /** Wakes idle consumers of queues with visible messages, each after a small random delay. */
  #wakeIdle(): boolean {
    let woke = false;
    for (const name of this.#queueNames()) {
      const visible = this.queues.queue(name).nextVisibleAt();
      if (visible === undefined || visible > this.now) continue;
      const idle = this.#consumers.filter((c) => c.queue === name && c.state === "idle");
      this.#shuffle(idle);
      for (const consumer of idle) {
        const wake = consumer.wake;
        delete consumer.wake;
        consumer.state = "waking";
        this.#schedule(this.now + Math.floor(this.#random() * 3), () => wake?.());
        woke = true;
      }
    }
    return woke;
  }

  async #reconcileRound(): Promise<boolean> {
    if (!this.hasReconciler) return false;
    if (this.#reconcilerRounds >= (this.options.reconcileRounds ?? 20)) return false;
    if (!this.tracked.some((t) => t.last === "running")) return false;
    this.#reconcilerRounds++;
    this.now += this.options.reconcileAfterMs ?? 600_000;
    const container = this.#container("reconciler");
    this.#outstanding++;
    const done = this.#race(
      container,
      () =>
        (
          container.runtime as unknown as {
            reconcile: (options: { tenants: string[] }) => Promise<unknown>;
          }
        ).reconcile({ tenants: [...new Set(this.tracked.map((t) => t.tenant))] }),
      900_000,
    ).finally(() => {
      this.#outstanding--;
    });
    // The reconciler's own port calls take virtual time: drive the clock until it settles.
    let settled = false;
    void done.then(() => {
      settled = true;
    });
    while (!settled) {
      await settle();
      if (settled) break;
      const next = this.#nextTime();
      if (next === undefined) break;
      this.now = Math.max(this.now, next);
      this.#fireDue();
    }
    return true;
  }

  // -------------------------------------------------------------------------
  // Consumers (Lambda's SQS event source)

  #consumer(id: string, queue: string, timeoutMs: number): Consumer {
    return { id, queue, timeoutMs, container: undefined, state: "busy", generation: 0 };
  }

  async #consume(consumer: Consumer): Promise<void> {
    const queue = this.queues.queue(consumer.queue);
    const batchSize = Math.max(1, Math.min(10, this.options.batchSize ?? QUEUE_DEFAULTS.batchSize));
    while (!this.#stopping) {
      consumer.state = "busy";
      const got = await queue.receive(batchSize);
      if (got.length === 0) {
        await new Promise<void>((resolve) => {
          consumer.state = "idle";
          consumer.wake = resolve;
        });
        continue;
      }
      this.#deliveryCount += got.length;
      for (const message of got) {
        if (!this.#duplicated.has(message.envelope.mid) && this.#roll(this.#faults.duplicate)) {
          this.#duplicated.add(message.envelope.mid);
          // SQS's at-least-once delivery: another copy, to another consumer, while this one runs.
          queue.enqueue(
            structuredClone(message.envelope),
            this.now + Math.floor(this.#random() * 3),
          );
        }
      }
      await this.#invoke(consumer, got);
    }
  }

  async #invoke(consumer: Consumer, messages: readonly ReceivedMessage[]): Promise<void> {
    this.#invocations++;
    if (!consumer.container || consumer.container.dead)
      consumer.container = this.#container(consumer.id);
    const container = consumer.container;
    container.faults = 0;
    const reported = new Map<string, unknown>();
    const logged = new Map<string, Delivery>();
    for (const message of messages) {
      const slotKey = `${consumer.queue}:${receiptSlot(message.receipt)}`;
      this.#latestReceive.set(
        slotKey,
        Math.max(this.#latestReceive.get(slotKey) ?? 0, message.receiveCount),
      );
      const entry: Delivery = {
        queue: consumer.queue,
        slot: receiptSlot(message.receipt),
        mid: message.envelope.mid,
        kind: message.envelope.body.kind,
        tenant: message.envelope.body.header.tenant,
        executionId: message.envelope.body.header.executionId,
        receiveCount: message.receiveCount,
        at: this.now,
        container: container.id,
      };
      logged.set(message.receipt, entry);
      this.deliveryLog.push(entry);
    }
    const queue = this.queues.queue(consumer.queue);
    const outcome = await this.#race(
      container,
      async () => {
        if (this.options.batches ?? true) {
          return processBatch(
            container.runtime,
            messages.map((m) => ({
              id: m.receipt,
              body: JSON.stringify(m.envelope),
              receiveCount: m.receiveCount,
            })),
            (record, error) => reported.set(record.id, error),
          );
        }
        const failed: string[] = [];
        for (const message of messages) {
          try {
            await container.runtime.handle(message.envelope, message.receiveCount);
          } catch (error) {
            reported.set(message.receipt, error);
            failed.push(message.receipt);
            await container.runtime.noteFailure(message.envelope, error).catch(() => {});
          }
        }
        return failed;
      },
      consumer.timeoutMs,
    );
    const fate = (message: ReceivedMessage, value: DeliveryFate) => {
      const slot = receiptSlot(message.receipt);
      const key = `${consumer.queue}:${slot}`;
      const list = this.#deliveries.get(key) ?? [];
      list.push(value);
      this.#deliveries.set(key, list);
      const entry = logged.get(message.receipt);
      if (entry) entry.fate = value;
    };
    if (outcome.kind !== "done") {
      // The process died or was killed: nothing is deleted, the messages come back after the visibility timeout.
      consumer.container = undefined;
      const value: DeliveryFate =
        outcome.kind === "timeout"
          ? "timeout"
          : outcome.kind === "crash"
            ? "crash"
            : `failed: ${describe(outcome.error)}`;
      for (const message of messages) fate(message, value);
      return;
    }
    const failed = new Set(outcome.value as string[]);
    for (const [id, error] of reported) {
      if (!(error instanceof InjectedFault)) this.errors.push(`${id}: ${describe(error)}`);
    }
    const injected = container.faults > 0;
    const deletes: string[] = [];
    for (const message of messages) {
      if (failed.has(message.receipt)) {
        fate(
          message,
          injected ? "failed-injected" : `failed: ${describe(reported.get(message.receipt))}`,
        );
      } else if (this.#roll(this.#faults.lostDelete)) {
        fate(message, "lost-delete");
      } else if (
        (this.#latestReceive.get(`${consumer.queue}:${receiptSlot(message.receipt)}`) ?? 0) >
        message.receiveCount
      ) {
        fate(message, "stale-delete");
        deletes.push(message.receipt);
      } else {
        fate(message, "deleted");
        deletes.push(message.receipt);
      }
    }
    if (deletes.length > 0) await queue.delete(deletes);
  }

  /** Runs `work` in `container` until it returns, throws, the container dies, or `timeoutMs` passes (then it is killed). */
  async #race<T>(
    container: Container,
    work: () => Promise<T>,
    timeoutMs: number,
  ): Promise<
    | { kind: "done"; value: T }
    | { kind: "error"; error: unknown }
    | { kind: "crash" }
    | { kind: "timeout" }
  > {
    const running = scope.run({ sim: this, container }, () => {
      try {
        return work().then(
          (value) => ({ kind: "done" as const, value }),
          (error: unknown) => ({ kind: "error" as const, error }),
        );
      } catch (error) {
        return Promise.resolve({ kind: "error" as const, error });
      }
    });
    let timer: Timer | undefined;
    const timedOut = new Promise<{ kind: "timeout" }>((resolve) => {
      timer = this.#schedule(this.now + timeoutMs, () => resolve({ kind: "timeout" }));
    });
    const outcome = await Promise.race([
      running,
      container.died.then(() => ({ kind: "crash" as const })),
      timedOut,
    ]);
    if (timer) timer.cancelled = true;
    if (outcome.kind === "timeout") {
      this.#kills++;
      container.die("timeout");
    }
    if (outcome.kind === "error" && container.dead) return { kind: "crash" };
    return outcome;
  }

  #container(role: string): Container {
    const id = `${role}#${++this.#containers}`;
    return new Container(
      id,
      () =>
        new Runtime(
          {
            store: this.#ports.store,
            queue: this.#ports.queue,
            payloads: this.#ports.payloads,
            clock: { now: () => this.now },
            definitions: this.#definitions,
            activities: this.#activities,
            ...(this.options.cache ? { cache: this.options.cache } : {}),
          },
          {
            app: "sim",
            log: (line) => this.lines.push(line),
            conflictBackoffMs: this.options.conflictBackoffMs ?? 10,
            ...(this.options.offloadThresholdBytes === undefined
              ? {}
              : { offloadThresholdBytes: this.options.offloadThresholdBytes }),
            ...(this.options.workerRegions
              ? { workerRegions: new Set(this.options.workerRegions) }
              : {}),
            ...(this.options.inline === undefined ? {} : { inline: this.options.inline }),
            ...(this.options.wideJoinFrom === undefined
              ? {}
              : { wideJoinFrom: this.options.wideJoinFrom }),
          },
        ),
    );
  }

  #onDeadLetter(envelope: OutMessage, slot: number, queue: string): void {
    const deliveries = [...(this.#deliveries.get(`${queue}:${slot}`) ?? [])];
    const letter: DeadLetter = {
      queue,
      mid: envelope.mid,
      kind: envelope.body.kind,
      executionId: envelope.body.header.executionId,
      tenant: envelope.body.header.tenant,
      deliveries,
      // Every delivery failed by an injected fault, but for at most one kill at the
      // function's timeout (a slow first run the next one would finish).
      unlucky:
        deliveries.length > 0 &&
        deliveries.filter((d) => !INJECTED.has(d)).length <= 1 &&
        deliveries.every((d) => INJECTED.has(d) || d === "timeout"),
      handled: false,
    };
    this.dead.push(letter);
    // The dead-letter function: redelivered by its own queue until it succeeds.
    this.at(0, async () => {
      for (let attempt = 0; attempt < 10 && !letter.handled; attempt++) {
        if (attempt > 0) await this.sleep(this.options.visibilityTimeoutMs ?? 60_000);
        const container = this.#container("dlq");
        const outcome = await this.#race(
          container,
          () => container.runtime.deadLetter(envelope),
          this.options.functionTimeoutMs ?? 60_000,
        );
        if (outcome.kind === "done") letter.handled = true;
        else if (outcome.kind === "error" && !(outcome.error instanceof InjectedFault))
          this.errors.push(`dlq ${envelope.mid}: ${describe(outcome.error)}`);
        else this.errors.push(`dlq ${envelope.mid}: ${outcome.kind}`);
      }
    });
  }

  // -------------------------------------------------------------------------
  // Ports with latency, faults and observation

  #port<T extends object>(raw: T, kind: PortKind): T {
    return new Proxy(raw, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        const name = String(property);
        return (...args: unknown[]) =>
          this.#call(kind, name, target, value as (...a: unknown[]) => Promise<unknown>, args);
      },
    });
  }

  async #call(
    kind: PortKind,
    name: string,
    target: object,
    fn: (...args: unknown[]) => Promise<unknown>,
    args: unknown[],
  ): Promise<unknown> {
    const container = scope.getStore()?.container;
    if (!container) return fn.apply(target, args);
    const latency = Math.floor(this.#random() * ((this.options.latencyMs ?? 2) + 1));
    if (latency > 0) await this.sleep(latency, container);
    if (container.dead) return never();
    const write = isWrite(kind, name);
    const planned = this.options.plan?.(
      { container: container.id, kind, name, args, write, phase: "before" },
      this,
    );
    if (planned === "crash") return this.#crash(container, `before ${kind}.${name} (planned)`);
    if (planned === "error") {
      container.faults++;
      throw new InjectedFault(`before ${kind}.${name} (planned)`);
    }
    let n = 0;
    if (write) {
      n = ++container.writes;
      const plan = container.plan;
      if (
        (plan && "beforeWrite" in plan && plan.beforeWrite === n) ||
        this.#roll(this.#faults.crash / 2)
      )
        return this.#crash(container, `before ${kind}.${name}`);
      if (this.#roll(this.#faults.transient / 2)) {
        container.faults++;
        throw new InjectedFault(`before ${kind}.${name}`);
      }
      if (kind === "store") this.#checkItems(name, args);
      if (kind === "queue") {
        const messages = this.#observeSend(args[0] as readonly OutMessage[], args[1] as number);
        args = [messages, args[1]];
        if (messages.length > 1 && this.#roll(this.#faults.partialSend)) {
          const some = 1 + Math.floor(this.#random() * (messages.length - 1));
          await this.#guard(() => fn.apply(target, [messages.slice(0, some), args[1]]));
          return this.#crash(container, `after sending ${some} of ${messages.length} messages`);
        }
      }
    }
    let result: unknown;
    try {
      const pending = fn.apply(target, args);
      // The store applies a write before it returns: what the roots look like now is what it left.
      if (write && kind === "store") this.#probe();
      result = await pending;
    } catch (error) {
      this.#noteLimit(error);
      if (container.dead) return never();
      throw error;
    }
    if (container.dead) return never();
    const after = this.options.plan?.(
      { container: container.id, kind, name, args, write, phase: "after" },
      this,
    );
    if (after === "crash") return this.#crash(container, `after ${kind}.${name} (planned)`);
    if (after === "error") {
      container.faults++;
      throw new InjectedFault(`after ${kind}.${name} (planned; it took effect)`);
    }
    if (write) {
      const plan = container.plan;
      if (
        (plan && "afterWrite" in plan && plan.afterWrite === n) ||
        this.#roll(this.#faults.crash / 2)
      )
        return this.#crash(container, `after ${kind}.${name}`);
      if (this.#roll(this.#faults.transient / 2)) {
        container.faults++;
        throw new InjectedFault(`after ${kind}.${name} (it took effect)`);
      }
    }
    return result;
  }

  async #guard(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.#noteLimit(error);
    }
  }

  #crash(container: Container, where: string): Promise<never> {
    this.#crashes++;
    container.faults++;
    container.crashedAt = where;
    container.die("crash");
    return never();
  }

  #roll(p: number): boolean {
    return p > 0 && this.#random() < p;
  }

  #shuffle<T>(list: T[]): void {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [list[i], list[j]] = [list[j] as T, list[i] as T];
    }
  }

  /** Checks what is sent (id length; SQS's limits are the queue adapter's), and applies jitter. */
  #observeSend(messages: readonly OutMessage[], at: number): OutMessage[] {
    const jitter = this.#faults.jitterMs;
    return messages.map((message) => {
      const bytes = Buffer.byteLength(JSON.stringify(message));
      this.#maxMessage = Math.max(this.#maxMessage, bytes);
      this.#maxMid = Math.max(this.#maxMid, message.mid.length);
      if (message.mid.length > MAX_MESSAGE_ID_LENGTH) {
        this.#violation(
          `a ${message.body.kind} message id is ${message.mid.length} characters (over ${MAX_MESSAGE_ID_LENGTH}): ${message.mid.slice(0, 60)}…`,
          `mid:${message.body.kind}`,
        );
      }
      if (bytes > SQS_MESSAGE_LIMIT_BYTES)
        this.#violation(
          `a ${message.body.kind} message is ${bytes} bytes (SQS takes ${SQS_MESSAGE_LIMIT_BYTES})`,
          `message:${message.body.kind}`,
        );
      if (jitter <= 0) return message;
      return {
        ...message,
        notBefore: Math.max(at, message.notBefore ?? at) + Math.floor(this.#random() * jitter),
      };
    });
  }

  /** DynamoDB's 400 KB, measured on what the store is handed; refused as DynamoDB would. */
  #checkItems(name: string, args: readonly unknown[]): void {
    for (const item of itemsOf(name, args)) {
      if (item === null || typeof item !== "object") continue;
      const bytes = dynamoItemBytes(item as Record<string, unknown>);
      this.#maxItem = Math.max(this.#maxItem, bytes);
      assertItemWithinLimits(item as Record<string, unknown>, `${name} item`);
    }
  }

  readonly #seen = new Set<string>();

  #violation(text: string, kind: string): void {
    if (this.#seen.has(kind)) return;
    this.#seen.add(kind);
    this.violations.push(text);
  }

  #noteLimit(error: unknown): void {
    if (error instanceof AwsLimitError || (error as Error)?.name === "AwsLimitError") {
      const e = error as AwsLimitError;
      this.#violation(e.message, `limit:${e.service}:${e.code}`);
    }
  }

  /** Reads every watched root as the write just left it; the reads resolve in order. */
  #probe(): void {
    const seq = ++this.#seq;
    const at = this.now;
    for (const tracked of this.tracked) {
      const view = this.store.getExecution(tracked.tenant, tracked.id);
      void view.then((record) => this.#observe(tracked, record, seq, at));
    }
  }

  #observe(tracked: Tracked, view: ExecutionView | undefined, seq: number, at: number): void {
    if (!view) return;
    const status = view.thread.status;
    const snapshot = JSON.stringify({
      status,
      data: view.thread.data,
      error: view.thread.error ?? null,
    });
    if (status === "running") {
      if (tracked.firstEnd && !tracked.changedAfterEnd)
        tracked.changedAfterEnd = `it ran again after it ended ${tracked.firstEnd.status}`;
    } else if (tracked.last === "running" || tracked.last === undefined) {
      tracked.endings++;
      if (!tracked.firstEnd) tracked.firstEnd = { seq, at, status };
    } else if (tracked.snapshot !== snapshot && !tracked.changedAfterEnd) {
      tracked.changedAfterEnd = `after it ended it changed from ${tracked.snapshot} to ${snapshot}`;
    }
    if (status === "cancelled" && !tracked.cancelledAt) tracked.cancelledAt = { seq, at };
    tracked.last = status;
    tracked.snapshot = snapshot;
  }

  // -------------------------------------------------------------------------
  // Activities

  #activity(name: string, fn: SimActivity): ActivityFunction {
    return async (input: never, context: ActivityContext) => {
      const container = scope.getStore()?.container;
      const run = (this.#runs.get(context.idempotencyKey) ?? 0) + 1;
      this.#runs.set(context.idempotencyKey, run);
      const call: ActivityCall = {
        activity: name,
        key: context.idempotencyKey,
        attempt: context.attempt,
        state: context.state,
        executionId: context.executionId,
        workflow: context.workflow,
        input: JSON.stringify(input),
        run,
        container: container?.id ?? "?",
        startedAt: this.now,
        seq: ++this.#seq,
      };
      this.calls.push(call);
      const simContext: SimActivityContext = {
        ...context,
        run,
        sleep: (ms) => this.sleep(ms, container),
        now: () => this.now,
      };
      try {
        const value = await fn(input, simContext);
        call.outcome = { ok: (JSON.parse(JSON.stringify(value ?? null)) as JsonValue) ?? null };
        return value;
      } catch (error) {
        call.outcome = {
          error: {
            name: (error as Error)?.name ?? "Error",
            message: String((error as Error)?.message),
          },
        };
        throw error;
      } finally {
        call.endedAt = this.now;
      }
    };
  }

  // -------------------------------------------------------------------------
  // Reading results

  /** Every history event of an execution, all pages. */
  async history(tenant: string, id: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const result = await this.store.readHistory(tenant, id, 1_000, cursor);
      events.push(...result.items);
      cursor = result.cursor;
      if (cursor === undefined) break;
    }
    return events;
  }

  /** The execution's root and its output (the data, loaded from the payload store when offloaded). */
  async result(
    tenant: string,
    id: string,
  ): Promise<{ view: ExecutionView | undefined; output: JsonValue | undefined }> {
    const view = await this.store.getExecution(tenant, id);
    if (!view) return { view, output: undefined };
    const data = view.thread.data;
    if ("inline" in data) return { view, output: data.inline };
    return { view, output: JSON.parse(await this.payloads.get(data.ref)) as JsonValue };
  }

  /** Activity calls of one execution. */
  callsOf(executionId: string): ActivityCall[] {
    return this.calls.filter((c) => c.executionId === executionId);
  }

  /** A one-line description of the run's configuration, to reproduce a seed. */
  describe(): string {
    const o = this.options;
    return JSON.stringify({
      seed: o.seed,
      consumers: o.consumers ?? 1,
      batchSize: o.batchSize ?? 10,
      batches: o.batches ?? true,
      visibilityMs: o.visibilityTimeoutMs,
      functionTimeoutMs: o.functionTimeoutMs ?? 60_000,
      latencyMs: o.latencyMs ?? 2,
      faults: o.faults ?? {},
      offload: o.offloadThresholdBytes,
      workers: o.workerRegions ?? [],
    });
  }
}

export interface HttpOptions {
  /** When, in ms of virtual time from now. */
  readonly at?: number;
  /** How many times the client retries a call that failed or timed out. Default 0. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** A crash planned in the call's first attempt. */
  readonly crash?: CrashPlan;
}

/** Lets every promise that can move, move: all microtasks run before an immediate. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}

/** The current simulation's virtual time, for activities that only have the runtime's context. */
export function virtualNow(): number {
  const inside = scope.getStore();
  if (!inside) throw new Error("virtualNow() outside a simulation");
  return inside.sim.now;
}
