/**
 * What each execution costs: a meter of the AWS requests one invocation makes for each
 * execution, recorded with the steps it commits (a step's `usage`), so an execution's
 * cost is the sum over its items and no write is added for it.
 *
 * - DynamoDB and S3 requests are measured: the adapters report each one, with its
 *   capacity units, to the meter (`UsageSink`), which charges it to the invocation
 *   being run (AsyncLocalStorage: an API read outside any invocation is not charged).
 *   A step's own put is counted by the store into the step itself.
 * - SQS requests and Lambda time are modelled where AWS makes them: the event source's
 *   receive and delete (a share of one each per record of a batch), the send (each
 *   message carries its share, `sendShare`, recorded by its receiver), the invocation
 *   (a share per record) and its GB-seconds (the measured time to each commit, times the
 *   function's memory, split between the executions the invocation serves).
 *
 * What an invocation spends for an execution after its last commit of it (a delete, a
 * join written at the batch's end) is recorded at the execution's end, with its
 * summary, when that invocation ends it; otherwise it is not counted.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  addUsage,
  type ExecutionOwner,
  NO_USAGE,
  type OutMessage,
  type Usage,
  type UsageSink,
} from "../core/ports.ts";
import { SQS_MAX_BATCH } from "../manifest/index.ts";

/** One invocation's usage, by execution, until its steps record it. */
export class InvocationUsage {
  readonly #pending = new Map<string, Usage>();
  readonly #lastAt = new Map<string, number>();
  readonly #memoryMb: number;
  readonly #startedAt: number;
  /** The executions this invocation serves: its time is split between them. */
  #executions = 1;

  /** Charged to the first execution taken (an HTTP call's invocation). */
  #unclaimed: Partial<Usage> | undefined;

  /**
   * @param memoryMb the function's memory (Lambda bills GB-seconds of it)
   * @param startedAt epoch ms the invocation started
   * @param unclaimed usage of the invocation as a whole, for the first execution it records
   */
  constructor(memoryMb: number, startedAt: number, unclaimed?: Partial<Usage>) {
    this.#memoryMb = memoryMb;
    this.#startedAt = startedAt;
    this.#unclaimed = unclaimed;
  }

  /** The number of executions this invocation's records belong to (at least 1). */
  serves(executions: number): void {
    this.#executions = Math.max(1, executions);
  }

  add(owner: ExecutionOwner, usage: Partial<Usage>): void {
    const key = keyOf(owner);
    this.#pending.set(key, addUsage(this.#pending.get(key) ?? NO_USAGE, usage));
  }

  /** What the execution spent in this invocation since the last `take` of it, now included. */
  take(owner: ExecutionOwner, now: number): Usage {
    const key = keyOf(owner);
    const since = this.#lastAt.get(key) ?? this.#startedAt;
    this.#lastAt.set(key, now);
    const seconds = Math.max(0, now - since) / 1000;
    const gbs = (seconds * this.#memoryMb) / 1024 / this.#executions;
    let usage = addUsage(this.#pending.get(key) ?? NO_USAGE, { gbs });
    this.#pending.delete(key);
    if (this.#unclaimed) {
      usage = addUsage(usage, this.#unclaimed);
      this.#unclaimed = undefined;
    }
    return usage;
  }

  /** Puts back what a step that was not written had taken. */
  giveBack(owner: ExecutionOwner, usage: Usage): void {
    this.add(owner, usage);
  }
}

const keyOf = (owner: ExecutionOwner) => `${owner.tenant}\u0000${owner.executionId}`;

/** The meter adapters report to: charges go to the invocation running the request, if any. */
export class UsageMeter implements UsageSink {
  readonly #current = new AsyncLocalStorage<InvocationUsage>();

  charge(owner: ExecutionOwner, usage: Partial<Usage>): void {
    this.#current.getStore()?.add(owner, usage);
  }

  /** Runs `work` as (part of) the invocation whose usage is `usage`. */
  run<T>(usage: InvocationUsage, work: () => Promise<T>): Promise<T> {
    return this.#current.run(usage, work);
  }

  /** The invocation being run, if any. */
  get current(): InvocationUsage | undefined {
    return this.#current.getStore();
  }
}

/**
 * Charges each record of an SQS batch's execution its share of the invocation, of the
 * event source's receive and delete (one each per batch), and of the send that carried it.
 */
export function chargeRecords(usage: InvocationUsage, envelopes: readonly OutMessage[]): void {
  const n = Math.max(1, envelopes.length);
  const executions = new Set<string>();
  for (const envelope of envelopes) {
    const { header } = envelope.body;
    executions.add(keyOf(header));
    usage.add(header, { invocations: 1 / n, sqs: 2 / n + (envelope.sendShare ?? 0) });
    if (envelope.usage) usage.add(header, envelope.usage);
  }
  usage.serves(executions.size);
}

/**
 * The messages as sent: `sentAt`, and each one's share of its SendMessageBatch request
 * (SQS_MAX_BATCH a request per queue; the adapter may split further by size).
 */
export function withSendShares(messages: readonly OutMessage[], now: number): OutMessage[] {
  const perQueue = new Map<string, number>();
  for (const m of messages) perQueue.set(m.queue, (perQueue.get(m.queue) ?? 0) + 1);
  const seen = new Map<string, number>();
  return messages.map((message) => {
    const total = perQueue.get(message.queue) ?? 1;
    const index = seen.get(message.queue) ?? 0;
    seen.set(message.queue, index + 1);
    const chunk = Math.min(
      SQS_MAX_BATCH,
      total - Math.floor(index / SQS_MAX_BATCH) * SQS_MAX_BATCH,
    );
    return { ...message, sentAt: now, sendShare: 1 / chunk };
  });
}
