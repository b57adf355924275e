/**
 * What every part of the runtime shares: the ports, the options, the payload codecs,
 * the metrics sink, the activities running in this process, and the small helpers
 * over them (the clock, TTLs, loading and storing thread state).
 */
import { MAX_DURATION_MS } from "../core/cdl/duration.ts";
import type {
  ExecutionContext,
  ThreadEvent,
  ThreadState,
  WorkflowError,
} from "../core/engine/index.ts";
import type {
  Clock,
  ExecutionHeader,
  ExecutionStore,
  MessageQueue,
  MetricsSink,
  ObjectStore,
  PayloadStore,
  ResultCache,
  StoredEvent,
  StoredThread,
  Usage,
} from "../core/ports.ts";
import { DEFAULT_RETENTION_DAYS, FUNCTION_DEFAULTS } from "../manifest/index.ts";
import type { ActivityFunction } from "./activities.ts";
import { HEADER_INPUT_INLINE_BYTES, jsonBytesUpTo, MAP_ITEM_INLINE_BYTES } from "./budget.ts";
import { PayloadCodec, type PayloadOwner } from "./codec.ts";
import type { DefinitionRegistry } from "./definitions.ts";
import { EmfMetrics } from "./metrics.ts";
import { InvocationUsage, UsageMeter } from "./usage.ts";

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
  /** Where activity logs (and, without `metrics`, metric lines) go. Default: standard output. */
  readonly log?: (line: string) => void;
  /** Upper bound of the random pause before retrying a conflicting write, in ms (grows with each try). Default 10. */
  readonly conflictBackoffMs?: number;
  /**
   * How often a running activity checks that its thread still wants it (a cancel, a
   * lost branch), in ms: its `ctx.signal` fires within about this long. Default 2,000.
   */
  readonly cancelPollMs?: number;
  /** Maps of this many items or more keep a wide, sharded join (see wide-joins.ts). Default 256. */
  readonly wideJoinFrom?: number;
  /**
   * The memory of the functions that run the engine (SQS batches) and the API (HTTP
   * calls), in MB: an execution's Lambda GB-seconds are its measured time times these.
   * Default `FUNCTION_DEFAULTS`.
   */
  readonly memoryMb?: { readonly engine?: number; readonly api?: number };
}

export interface RuntimeDeps {
  /** Where Tasks with a `cache` policy keep results. Without it, `cache` is ignored. */
  readonly cache?: ResultCache;
  readonly store: ExecutionStore;
  readonly queue: MessageQueue;
  readonly payloads: PayloadStore;
  /**
   * The user's buckets, for Maps with `item_reader:` or `result_writer:` (S3 on AWS and
   * in the local stack, memory in simulations). Without it such a Map cannot run.
   */
  readonly objects?: ObjectStore;
  readonly clock: Clock;
  readonly definitions: DefinitionRegistry;
  readonly activities: ReadonlyMap<string, ActivityFunction>;
  /** Default: EMF lines to `options.log`. */
  readonly metrics?: MetricsSink;
}

/** How many re-sent steps the reconciler remembers per process. */
const MAX_RECONCILED_REMEMBERED = 10_000;

/** Identifies an activity running in this process: tenants may reuse execution ids. */
export function runningKey(header: ExecutionHeader, thread: string): string {
  return `${header.tenant}\u0000${header.executionId}\u0000${thread}`;
}

export class RuntimeContext {
  readonly deps: RuntimeDeps;
  readonly options: RuntimeOptions;
  readonly codec: PayloadCodec;
  /** Execution inputs ride in every message's header only up to a few KB. */
  readonly headerCodec: PayloadCodec;
  readonly log: (line: string) => void;
  readonly metrics: MetricsSink;
  /** Activities running in this process, by `runningKey`: a cancel aborts them at once. */
  readonly running = new Map<string, AbortController>();
  /** What adapters report their requests to: each execution's usage (usage.ts). */
  readonly meter = new UsageMeter();
  /** Steps whose outbox the reconciler re-sent in this process (bounded, oldest dropped). */
  readonly reconciled = new Set<string>();

  /** Records a step the reconciler re-sent. */
  remember(key: string): void {
    this.reconciled.add(key);
    if (this.reconciled.size > MAX_RECONCILED_REMEMBERED) {
      const oldest = this.reconciled.values().next().value;
      if (oldest !== undefined) this.reconciled.delete(oldest);
    }
  }
  #activities: ReadonlyMap<string, ActivityFunction>;

  constructor(deps: RuntimeDeps, options: RuntimeOptions) {
    this.deps = deps;
    this.options = options;
    this.codec = new PayloadCodec(deps.payloads, options.offloadThresholdBytes);
    this.headerCodec = new PayloadCodec(
      deps.payloads,
      Math.min(HEADER_INPUT_INLINE_BYTES, this.codec.threshold),
    );
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.metrics = deps.metrics ?? new EmfMetrics(this.log);
    this.#activities = deps.activities;
  }

  get store(): ExecutionStore {
    return this.deps.store;
  }

  get activities(): ReadonlyMap<string, ActivityFunction> {
    return this.#activities;
  }

  /** New executions and attempts use these activities (`cascade dev` reloads them). */
  replaceActivities(activities: ReadonlyMap<string, ActivityFunction>): void {
    this.#activities = activities;
  }

  now(): number {
    return this.deps.clock.now();
  }

  /**
   * What execution `owner` spent in the invocation being run since it last recorded,
   * for the step about to be written (undefined outside a metered invocation).
   */
  takeUsage(owner: { tenant: string; executionId: string }): Usage | undefined {
    return this.meter.current?.take(owner, this.now());
  }

  /**
   * Runs `work` as a metered invocation of the engine (an SQS batch) or the API (an
   * HTTP call), unless one is being run already (a redrive's start is its call's).
   */
  metered<T>(
    fn: "engine" | "api",
    work: () => Promise<T>,
    setup?: (usage: InvocationUsage) => void,
  ): Promise<T> {
    if (this.meter.current) return work();
    const memory = this.options.memoryMb?.[fn] ?? FUNCTION_DEFAULTS[fn].memoryMb;
    const usage = new InvocationUsage(
      memory,
      this.now(),
      fn === "api" ? { invocations: 1 } : undefined,
    );
    setup?.(usage);
    return this.meter.run(usage, work);
  }

  /**
   * The TTL of a step (or summary) written now: the retention after the end once it
   * has ended, else the retention after the execution's longest life.
   */
  stepExpiry(header: ExecutionHeader, ended: boolean): number {
    return ended ? (this.expiry(true) as number) : this.runningExpiry(header);
  }

  /** The TTL of a record that has ended: now plus the retention. */
  expiry(ended: boolean): number | undefined {
    if (!ended) return undefined;
    const days = this.options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    return Math.floor(this.now() / 1000) + days * 86_400;
  }

  /**
   * When an item written while its execution still runs (steps, buffered events)
   * expires: the retention after the longest an execution can run, counted from its
   * start. An execution that outlives that keeps running; its oldest steps go.
   */
  runningExpiry(header: ExecutionHeader): number {
    const days = this.options.retentionDays ?? DEFAULT_RETENTION_DAYS;
    return Math.floor((header.startedAt + MAX_DURATION_MS) / 1000) + days * 86_400;
  }

  async executionContext(header: ExecutionHeader): Promise<ExecutionContext> {
    return {
      executionId: header.executionId,
      workflowName: header.workflow,
      input: await this.headerCodec.load(header.input),
      startTime: header.startedAt,
    };
  }

  async storeThread(thread: ThreadState, owner: PayloadOwner): Promise<StoredThread> {
    const { map, ...rest } = thread;
    // A Map item over a few KB is referenced (content-addressed), and the data too while
    // it is still that item: a thread never carries an item twice.
    const bigItem =
      map !== undefined && jsonBytesUpTo(map.item, MAP_ITEM_INLINE_BYTES) > MAP_ITEM_INLINE_BYTES;
    const item = map
      ? bigItem
        ? await this.codec.store(map.item, owner, true)
        : { inline: map.item }
      : undefined;
    let data = await this.codec.store(thread.data, owner);
    if (
      bigItem &&
      item &&
      "ref" in item &&
      "inline" in data &&
      JSON.stringify(thread.data) === JSON.stringify(map?.item)
    )
      data = item;
    return {
      ...rest,
      ...(thread.error ? { error: boundError(thread.error) } : {}),
      data,
      ...(map && item ? { map: { index: map.index, item } } : {}),
    };
  }

  async loadThread(thread: StoredThread): Promise<ThreadState> {
    const { map, ...rest } = thread;
    return {
      ...rest,
      data: await this.codec.load(thread.data),
      ...(map ? { map: { index: map.index, item: await this.codec.load(map.item) } } : {}),
    };
  }

  async loadEvent(event: StoredEvent): Promise<ThreadEvent> {
    switch (event.type) {
      case "ActivitySucceeded":
        return { ...event, output: await this.codec.load(event.output) };
      case "EventReceived":
        return { ...event, payload: await this.codec.load(event.payload) };
      default:
        return event;
    }
  }
}

/** Error names and messages kept in items and messages are cut to this many characters. */
export const MAX_STORED_ERROR_CHARS = 8 * 1024;

/** An error as stored: a `Fail` state's cause of a million characters must not fill an item. */
export function boundError(error: WorkflowError): WorkflowError {
  const cut = (text: string) =>
    text.length > MAX_STORED_ERROR_CHARS ? `${text.slice(0, MAX_STORED_ERROR_CHARS)}…` : text;
  if (error.name.length <= MAX_STORED_ERROR_CHARS && error.message.length <= MAX_STORED_ERROR_CHARS)
    return error;
  return { ...error, name: cut(error.name), message: cut(error.message) };
}
