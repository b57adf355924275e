/**
 * Lambda's SQS event source, on this machine: one receive loop per queue (fauxqs
 * wakes every waiting long-poll on each send, so one poller feeding in-process
 * workers beats several pollers), batches of up to `batchSize`, at most
 * `concurrency` batches in flight, partial batch failures (only failed records
 * come back, after `retryDelayMs`), successes deleted.
 */
import type { QueueConsumer, ReceivedMessage } from "./consumer.ts";

export interface PollerOptions {
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Long-poll wait per receive. Default 1000 ms. */
  readonly waitMs?: number;
  /** How soon a failed record is visible again. Default 1000 ms. */
  readonly retryDelayMs?: number;
  /**
   * The queue's visibility timeout. While a batch is handled its messages are kept
   * invisible (renewed every half of it), so a long activity is not delivered twice.
   * Default 60,000 ms.
   */
  readonly visibilityTimeoutMs?: number;
  readonly onError?: (error: unknown) => void;
}

/** Handles a batch and returns the receipts of the records that failed. */
export type BatchHandler = (messages: readonly ReceivedMessage[]) => Promise<readonly string[]>;

export class Poller {
  readonly #consumer: QueueConsumer;
  readonly #handler: BatchHandler;
  readonly #options: PollerOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Batches handled so far. */
  handled = 0;

  constructor(consumer: QueueConsumer, handler: BatchHandler, options: PollerOptions = {}) {
    this.#consumer = consumer;
    this.#handler = handler;
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops receiving and waits for the batches in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#inFlight);
  }

  /** True when no batch is being handled. */
  get idle(): boolean {
    return this.#inFlight.size === 0;
  }

  async #run(): Promise<void> {
    const concurrency = this.#options.concurrency ?? 4;
    while (this.#running) {
      if (this.#inFlight.size >= concurrency) {
        await Promise.race(this.#inFlight);
        continue;
      }
      let batch: ReceivedMessage[];
      try {
        batch = await this.#consumer.receive(
          this.#options.batchSize ?? 10,
          this.#options.waitMs ?? 1_000,
        );
      } catch (error) {
        this.#options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (batch.length === 0) continue;
      const work = this.#handle(batch).finally(() => this.#inFlight.delete(work));
      this.#inFlight.add(work);
    }
  }

  async #handle(batch: ReceivedMessage[]): Promise<void> {
    const visibility = this.#options.visibilityTimeoutMs ?? 60_000;
    const receipts = batch.map((m) => m.receipt);
    const keepAlive = setInterval(() => {
      this.#consumer
        .extend(receipts, visibility)
        .catch((error: unknown) => this.#options.onError?.(error));
    }, visibility / 2);
    try {
      const failed = new Set(await this.#handler(batch));
      const done = batch.filter((m) => !failed.has(m.receipt)).map((m) => m.receipt);
      if (done.length > 0) await this.#consumer.delete(done);
      for (const receipt of failed)
        await this.#consumer.release(receipt, this.#options.retryDelayMs ?? 1_000);
    } catch (error) {
      this.#options.onError?.(error);
    } finally {
      clearInterval(keepAlive);
      this.handled++;
    }
  }
}
