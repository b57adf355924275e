/**
 * In-memory queues with SQS's delivery semantics: delays, visibility timeouts,
 * receive counts and redrive to a dead-letter queue after `maxReceiveCount`, and
 * SQS's limits (256 KiB and the allowed characters per message; 10 entries and
 * 256 KiB per SendMessageBatch, split as the SQS adapter splits). For seeded
 * simulations; the local stack and the tests of the real path use fauxqs.
 */
import type { MessageQueue, OutMessage, QueueConsumer, ReceivedMessage } from "../../core/ports.ts";
import { DEFAULT_MAX_RECEIVE_COUNT, SQS_MAX_DELAY_SECONDS } from "../../manifest/index.ts";
import { sqsBatches } from "./limits.ts";

interface Slot {
  id: number;
  envelope: OutMessage;
  visibleAt: number;
  receiveCount: number;
  receipt?: string;
}

export interface MemoryQueueOptions {
  readonly now: () => number;
  readonly visibilityTimeoutMs?: number;
  readonly maxReceiveCount?: number;
  /** Told of each message moved to a dead-letter queue, with its slot (the receipt's prefix) and queue. */
  readonly onDeadLetter?: (envelope: OutMessage, slot: number, queue: string) => void;
}

/** All queues of an app, by name; `send` routes each message to its `queue`. */
export class MemoryQueues implements MessageQueue {
  readonly #queues = new Map<string, MemoryQueue>();
  readonly #options: MemoryQueueOptions;
  readonly sent: OutMessage[] = [];
  /** `sends` counts calls of `send`; `batches` the SendMessageBatch requests SQS would have taken. */
  readonly calls = { sends: 0, batches: 0 };

  constructor(options: MemoryQueueOptions) {
    this.#options = options;
  }

  queue(name: string): MemoryQueue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new MemoryQueue(this.#options, name);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Queues messages as SQS would receive them: each serialised once (what arrives
   * is the parsed text, as from SQS), grouped into SendMessageBatch requests per
   * queue. Nothing is queued when one message breaks a limit.
   * @throws AwsLimitError for a message over 256 KiB or with a character SQS refuses
   */
  async send(messages: readonly OutMessage[], now: number): Promise<void> {
    this.calls.sends++;
    const bodies = new Map<string, string[]>();
    for (const message of messages) {
      const list = bodies.get(message.queue) ?? [];
      list.push(JSON.stringify(message));
      bodies.set(message.queue, list);
    }
    let batches = 0;
    for (const list of bodies.values()) batches += sqsBatches(list).length;
    this.calls.batches += batches;
    const queued = new Map<string, number>();
    for (const message of messages) {
      const n = queued.get(message.queue) ?? 0;
      queued.set(message.queue, n + 1);
      const body = bodies.get(message.queue)?.[n] ?? JSON.stringify(message);
      this.sent.push(message);
      // Like SQS: a message can be delayed 15 minutes at most; longer timers arrive early and are sent on.
      const delay = Math.min(
        Math.max(0, (message.notBefore ?? now) - now),
        SQS_MAX_DELAY_SECONDS * 1000,
      );
      this.queue(message.queue).enqueue(JSON.parse(body) as OutMessage, now + delay);
    }
  }

  /** Messages still queued or in flight, over every queue (dead letters not counted). */
  pending(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.size();
    return n;
  }
}

/** The slot a receipt belongs to: receipts are `<slot>:<receive count>`, one slot per queued copy. */
export function receiptSlot(receipt: string): number {
  return Number(receipt.slice(0, receipt.indexOf(":")));
}

export class MemoryQueue implements QueueConsumer {
  readonly #slots: Slot[] = [];
  readonly dead: OutMessage[] = [];
  readonly #options: MemoryQueueOptions;
  readonly name: string;
  #next = 0;

  constructor(options: MemoryQueueOptions, name = "") {
    this.#options = options;
    this.name = name;
  }

  enqueue(envelope: OutMessage, visibleAt: number): void {
    this.#slots.push({
      id: this.#next++,
      envelope: structuredClone(envelope),
      visibleAt,
      receiveCount: 0,
    });
  }

  size(): number {
    return this.#slots.length;
  }

  /** The earliest time a message becomes visible, if any is queued. */
  nextVisibleAt(): number | undefined {
    let min: number | undefined;
    for (const slot of this.#slots)
      if (min === undefined || slot.visibleAt < min) min = slot.visibleAt;
    return min;
  }

  async receive(max: number): Promise<ReceivedMessage[]> {
    const now = this.#options.now();
    const out: ReceivedMessage[] = [];
    const maxReceives = this.#options.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
    for (const slot of [...this.#slots].sort((a, b) => a.visibleAt - b.visibleAt || a.id - b.id)) {
      if (out.length >= max) break;
      if (slot.visibleAt > now) continue;
      if (slot.receiveCount >= maxReceives) {
        this.#slots.splice(this.#slots.indexOf(slot), 1);
        this.dead.push(slot.envelope);
        this.#options.onDeadLetter?.(slot.envelope, slot.id, this.name);
        continue;
      }
      slot.receiveCount++;
      slot.receipt = `${slot.id}:${slot.receiveCount}`;
      slot.visibleAt = now + (this.#options.visibilityTimeoutMs ?? 30_000);
      out.push({
        receipt: slot.receipt,
        envelope: structuredClone(slot.envelope),
        receiveCount: slot.receiveCount,
      });
    }
    return out;
  }

  async delete(receipts: readonly string[]): Promise<void> {
    for (const receipt of receipts) {
      const index = this.#slots.findIndex((s) => s.receipt === receipt);
      if (index >= 0) this.#slots.splice(index, 1);
    }
  }

  async extend(receipts: readonly string[], ms: number): Promise<void> {
    for (const slot of this.#slots) {
      if (slot.receipt !== undefined && receipts.includes(slot.receipt))
        slot.visibleAt = this.#options.now() + ms;
    }
  }

  async release(receipt: string, delayMs: number): Promise<void> {
    const slot = this.#slots.find((s) => s.receipt === receipt);
    if (slot) slot.visibleAt = this.#options.now() + delayMs;
  }
}
