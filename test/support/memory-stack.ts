/**
 * The runtime on in-memory adapters with a virtual clock, and a driver that
 * delivers messages the way Lambda's SQS event source does — with optional
 * chaos: crashes at every point between read, commit and send, duplicated
 * deliveries, and reordering, all from a seed.
 */

import type { Tracer } from "@opentelemetry/api";
import { MemoryObjectStore } from "../../lib/adapters/memory/objects.ts";
import { MemoryPayloadStore } from "../../lib/adapters/memory/payloads.ts";
import { MemoryQueues } from "../../lib/adapters/memory/queue.ts";
import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import { nextRandom } from "../../lib/core/engine/index.ts";
import type {
  ExecutionStore,
  MessageQueue,
  OutMessage,
  ResultCache,
  ThreadRecord,
} from "../../lib/core/ports.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { processBatch } from "../../lib/runtime/batch.ts";
import { DefinitionRegistry } from "../../lib/runtime/definitions.ts";
import { Runtime, TRANSITIONS } from "../../lib/runtime/runtime.ts";
import { traceActivities, traceRuntime } from "../../lib/runtime/tracing.ts";

export interface Chaos {
  readonly seed: number;
  /** Probability that a store write or a send throws (a crash), before or after taking effect. */
  readonly crash: number;
  /** Probability that a handled message is delivered again. */
  readonly duplicate: number;
  /** Up to this many ms of random extra delay on each delivery (reordering). */
  readonly jitterMs: number;
}

export class Crash extends Error {
  constructor(where: string) {
    super(`injected crash ${where}`);
    this.name = "Crash";
  }
}

export interface StackOptions {
  readonly workflows: readonly { readonly file: string; readonly source: string }[];
  readonly activities: Record<string, ActivityFunction>;
  readonly chaos?: Chaos;
  readonly offloadThresholdBytes?: number;
  readonly workerRegions?: readonly string[];
  readonly inline?: boolean;
  readonly start?: number;
  /**
   * Deliver each received batch through `processBatch`, as the Lambda handlers do
   * (records of one execution together, join reports applied in one write), instead
   * of one `handle` per message. A crash anywhere in the batch deletes nothing.
   */
  readonly batches?: boolean;
  /** Maps of this many items or more keep a wide (sharded) join. Default the runtime's. */
  readonly wideJoinFrom?: number;
  /** The result cache for Tasks with a `cache` policy. */
  readonly cache?: ResultCache;
  /** Traces the runtime and the activities (lib/runtime/tracing.ts). */
  readonly tracer?: Tracer;
  /** The user's buckets for `item_reader:`/`result_writer:`. Default: an empty MemoryObjectStore. */
  readonly objects?: MemoryObjectStore;
  /** How often a running activity checks its thread (ms, real time). Default the runtime's. */
  readonly cancelPollMs?: number;
}

export function memoryStack(options: StackOptions) {
  let now = options.start ?? Date.UTC(2026, 0, 1);
  const clock = { now: () => now };
  let rng = options.chaos?.seed ?? 1;
  const random = () => {
    const draw = nextRandom(rng);
    rng = draw.state;
    return draw.value;
  };
  const chaos = options.chaos;
  const crashes = { injected: 0 };
  const maybeCrash = (where: string) => {
    if (chaos && random() < chaos.crash) {
      crashes.injected++;
      throw new Crash(where);
    }
  };

  const memory = new MemoryExecutionStore();
  const payloads = new MemoryPayloadStore();
  const objects = options.objects ?? new MemoryObjectStore();
  const queues = new MemoryQueues({
    now: clock.now,
    visibilityTimeoutMs: 5_000,
    maxReceiveCount: 50,
  });

  // Fault injection wraps the real adapters: a write may crash before or after it lands.
  const store: ExecutionStore = new Proxy(memory, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const name = String(property);
      const writes = [
        "putThread",
        "putJoin",
        "createExecution",
        "appendHistory",
        "appendHistories",
        "ackJoin",
        "deleteBufferedEvent",
        "putEventWaiter",
        "deleteEventWaiter",
        "noteEventTaker",
      ];
      if (!writes.includes(name)) return value.bind(target);
      return async (...args: unknown[]) => {
        maybeCrash(`before ${name}`);
        const result = await value.apply(target, args);
        maybeCrash(`after ${name}`);
        return result;
      };
    },
  });
  const queue: MessageQueue = {
    async send(messages: readonly OutMessage[], at: number) {
      maybeCrash("before send");
      const delayed = chaos
        ? messages.map((m) => ({
            ...m,
            notBefore: Math.max(at, m.notBefore ?? at) + Math.floor(random() * chaos.jitterMs),
          }))
        : messages;
      await queues.send(delayed, at);
      maybeCrash("after send");
    },
  };

  const definitions = new DefinitionRegistry(memory);
  for (const workflow of options.workflows) definitions.register(workflow.source, workflow.file);
  const lines: string[] = [];
  const activities = new Map(Object.entries(options.activities));
  const untraced = new Runtime(
    {
      store,
      queue,
      payloads,
      objects,
      clock,
      definitions,
      activities: options.tracer ? traceActivities(activities, options.tracer) : activities,
      ...(options.cache ? { cache: options.cache } : {}),
    },
    {
      app: "test",
      log: (line) => lines.push(line),
      conflictBackoffMs: 0,
      ...(options.offloadThresholdBytes === undefined
        ? {}
        : { offloadThresholdBytes: options.offloadThresholdBytes }),
      ...(options.workerRegions ? { workerRegions: new Set(options.workerRegions) } : {}),
      ...(options.inline === undefined ? {} : { inline: options.inline }),
      ...(options.wideJoinFrom === undefined ? {} : { wideJoinFrom: options.wideJoinFrom }),
      ...(options.cancelPollMs === undefined ? {} : { cancelPollMs: options.cancelPollMs }),
    },
  );
  const runtime = options.tracer ? traceRuntime(untraced, options.tracer) : untraced;

  /** Delivers messages until none is left (advancing the virtual clock to timers); returns deliveries. */
  async function drain(limit = 100_000): Promise<{ deliveries: number; failures: number }> {
    let deliveries = 0;
    let failures = 0;
    const names = [TRANSITIONS, ...(options.workerRegions ?? []).map((r) => `worker:${r}`)];
    while (deliveries < limit) {
      let got = 0;
      for (const name of names) {
        const q = queues.queue(name);
        const batch = await q.receive(10);
        got += batch.length;
        if (options.batches && batch.length > 0) {
          deliveries += batch.length;
          let crashed = false;
          const failedIds = new Set(
            await processBatch(
              runtime,
              batch.map((m) => ({
                id: m.receipt,
                body: JSON.stringify(m.envelope),
                receiveCount: m.receiveCount,
              })),
              (_record, error) => {
                if (error instanceof Crash) crashed = true;
              },
            ),
          );
          try {
            if (crashed) throw new Crash("in the batch");
            maybeCrash("before delete");
          } catch {
            failures++;
            for (const m of batch) await q.release(m.receipt, 100);
            continue;
          }
          failures += failedIds.size;
          for (const m of batch) {
            if (failedIds.has(m.receipt)) await q.release(m.receipt, 100);
            else if (!(chaos && random() < chaos.duplicate)) await q.delete([m.receipt]);
          }
          for (const dead of q.dead.splice(0)) await runtime.deadLetter(dead);
          continue;
        }
        for (const message of batch) {
          deliveries++;
          try {
            await runtime.handle(message.envelope, message.receiveCount);
            if (chaos && random() < chaos.duplicate) continue; // lost delete: SQS delivers it again
            maybeCrash("before delete");
            await q.delete([message.receipt]);
          } catch (error) {
            failures++;
            if (!(error instanceof Crash)) {
              await runtime.noteFailure(message.envelope, error).catch(() => {});
            }
            await q.release(message.receipt, 100);
          }
        }
        for (const dead of q.dead.splice(0)) {
          await runtime.deadLetter(dead);
        }
      }
      if (got > 0) continue;
      const next = names
        .map((n) => queues.queue(n).nextVisibleAt())
        .filter((t): t is number => t !== undefined)
        .sort((a, b) => a - b)[0];
      if (next === undefined) break;
      now = Math.max(now, next);
    }
    return { deliveries, failures };
  }

  return {
    runtime,
    definitions,
    store: memory,
    payloads,
    objects,
    queues,
    clock,
    crashes,
    lines,
    drain,
    advance: (ms: number) => {
      now += ms;
    },
    /** The root record of an execution. */
    execution: (id: string, tenant = "default"): Promise<ThreadRecord | undefined> =>
      memory.getExecution(tenant, id),
  };
}
