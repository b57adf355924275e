/**
 * Lambda's SQS event source, on this machine: one receive loop per queue (fauxqs
 * wakes every waiting long-poll on each send, so one poller feeding in-process
 * workers beats several pollers), batches of up to `batchSize`, at most
 * `concurrency` batches in flight, partial batch failures (only failed records
 * come back, after `retryDelayMs`), successes deleted, and the function's timeout:
 * a batch still running when it passes is killed, as Lambda kills the invocation.
 */
import type { QueueConsumer, ReceivedMessage } from "../core/ports.ts";

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
  /**
   * The consuming function's timeout (Lambda's, at most 15 minutes), in milliseconds.
   * A batch whose handler has not returned by then is killed: its visibility is no
   * longer renewed, none of its messages is deleted or released (they come back once
   * their visibility timeout passes, with a higher receive count, as on AWS), its
   * handler's signal is aborted and `onTimeout` is called. Its concurrency slot is
   * freed at once; `stop()` still waits for the handler to return. Default: none.
   */
  readonly functionTimeoutMs?: number;
  /** Called once for each killed batch. */
  readonly onTimeout?: (killed: KilledBatch) => void;
  readonly onError?: (error: unknown) => void;
}

/** What a handler gets beside its messages: Lambda's context, reduced to what Cascade uses. */
export interface BatchContext {
  /** Aborted (with a `TimeoutError` DOMException) when the invocation is killed at `deadline`. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds at which the invocation is killed; `Infinity` without a function timeout. */
  readonly deadline: number;
}

/** A batch whose handler outlived the function's timeout. */
export interface KilledBatch {
  readonly messages: readonly ReceivedMessage[];
  readonly functionTimeoutMs: number;
}

/** Handles a batch and returns the receipts of the records that failed. */
export type BatchHandler = (
  messages: readonly ReceivedMessage[],
  context: BatchContext,
) => Promise<readonly string[]>;

export class Poller {
  readonly #consumer: QueueConsumer;
  readonly #handler: BatchHandler;
  readonly #options: PollerOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Handlers of killed batches that have not returned yet. */
  readonly #killed = new Set<Promise<void>>();
  /** Batches handled so far (killed ones included). */
  handled = 0;
  /** Batches killed for running past the function's timeout. */
  timedOut = 0;

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

  /** Stops receiving and waits for the batches in flight, and for the handlers of killed ones. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#inFlight);
    await Promise.all(this.#killed);
  }

  /** True when no batch is being handled (a killed batch's handler may still be returning). */
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
    const timeoutMs = this.#options.functionTimeoutMs;
    const receipts = batch.map((m) => m.receipt);
    const keepAlive = setInterval(() => {
      this.#consumer
        .extend(receipts, visibility)
        .catch((error: unknown) => this.#options.onError?.(error));
    }, visibility / 2);
    const controller = new AbortController();
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    // The handler's outcome, never rejecting: an error is reported like any other.
    const handled = Promise.resolve()
      .then(() => this.#handler(batch, { signal: controller.signal, deadline }))
      .then(
        (failed) => ({ failed }),
        (error: unknown) => ({ error }),
      );
    let killTimer: NodeJS.Timeout | undefined;
    const killed = new Promise<"killed">((resolve) => {
      if (timeoutMs !== undefined) killTimer = setTimeout(() => resolve("killed"), timeoutMs);
    });
    try {
      const outcome = await Promise.race([handled, killed]);
      if (outcome === "killed") {
        clearInterval(keepAlive);
        this.timedOut++;
        const zombie = handled.then(() => {}).finally(() => this.#killed.delete(zombie));
        this.#killed.add(zombie);
        this.#options.onTimeout?.({ messages: batch, functionTimeoutMs: timeoutMs ?? 0 });
        controller.abort(
          new DOMException(
            `the function timed out after ${timeoutMs} ms; this invocation is killed`,
            "TimeoutError",
          ),
        );
        return;
      }
      if ("error" in outcome) throw outcome.error;
      const failed = new Set(outcome.failed);
      const done = batch.filter((m) => !failed.has(m.receipt)).map((m) => m.receipt);
      if (done.length > 0) await this.#consumer.delete(done);
      for (const receipt of failed)
        await this.#consumer.release(receipt, this.#options.retryDelayMs ?? 1_000);
    } catch (error) {
      this.#options.onError?.(error);
    } finally {
      clearTimeout(killTimer);
      clearInterval(keepAlive);
      this.handled++;
    }
  }
}
