/**
 * Queues on SQS: sends batched (10 per request), delays up to SQS's 15 minutes
 * (longer timers are re-sent by the handler when they arrive early), and a
 * consumer for the local poller with Lambda's event-source semantics.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { QueueConsumer, ReceivedMessage } from "../../core/ports.ts";
import { type MessageQueue, messageKey, type OutMessage } from "../../core/ports.ts";
import {
  SQS_MAX_BATCH,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  SQS_MESSAGE_LIMIT_BYTES,
} from "../../manifest/index.ts";
import type { AwsJsonClient } from "./json-client.ts";

/**
 * Raised when SQS refuses messages after a retry. `unsent` names them (`messageKey`s):
 * the others were sent, so only the messages that caused these need redelivery.
 */
export class SqsQueueError extends Error {
  readonly unsent: readonly string[];
  constructor(message: string, unsent: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = "SqsQueueError";
    this.unsent = unsent;
  }

  get failed(): number {
    return this.unsent.length;
  }
}

/**
 * Whole seconds to delay a message due at `notBefore`, clamped to SQS's limit. SQS
 * delays by whole seconds: a message due in under a second is sent at once and its
 * handler waits out the rest (a 200 ms retry interval waits 200 ms, not 1 s); a longer
 * delay is rounded up, so it never arrives early.
 */
export function delaySeconds(notBefore: number | undefined, now: number): number {
  if (notBefore === undefined || notBefore <= now) return 0;
  const ms = notBefore - now;
  if (ms < 1_000) return 0;
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil(ms / 1000));
}

/**
 * Splits messages into SendMessageBatch requests: at most 10 entries and at most
 * 256 KiB of bodies per request (SQS counts the whole batch against the message limit).
 */
export function chunkForSqs(
  messages: readonly OutMessage[],
): { message: OutMessage; body: string }[][] {
  const chunks: { message: OutMessage; body: string }[][] = [];
  let current: { message: OutMessage; body: string }[] = [];
  let bytes = 0;
  for (const message of messages) {
    // Serialised once: the size decides the chunk, and the same text is sent.
    const body = JSON.stringify(message);
    const size = Buffer.byteLength(body);
    if (
      current.length > 0 &&
      (current.length === SQS_MAX_BATCH || bytes + size > SQS_MESSAGE_LIMIT_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ message, body });
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class SqsMessageQueue implements MessageQueue {
  readonly #client: Pick<SQSClient, "send">;
  readonly #urls: ReadonlyMap<string, string>;

  /** @param urls queue name (`transitions`, `worker:<pool>`) → queue URL. */
  constructor(client: SQSClient | AwsJsonClient, urls: ReadonlyMap<string, string>) {
    this.#client = client as Pick<SQSClient, "send">;
    this.#urls = urls;
  }

  async send(messages: readonly OutMessage[], now: number): Promise<void> {
    const byQueue = new Map<string, OutMessage[]>();
    for (const message of messages) {
      const list = byQueue.get(message.queue) ?? [];
      list.push(message);
      byQueue.set(message.queue, list);
    }
    const unsent: string[] = [];
    const errors: unknown[] = [];
    await Promise.all(
      [...byQueue].map(async ([queue, list]) => {
        const url = this.#urls.get(queue);
        if (!url) {
          unsent.push(...list.map(messageKey));
          errors.push(new Error(`no queue URL for '${queue}'`));
          return;
        }
        await Promise.all(
          chunkForSqs(list).map(async (chunk) => {
            try {
              await this.#sendBatch(url, chunk, now);
            } catch (error) {
              unsent.push(
                ...(error instanceof SqsQueueError
                  ? error.unsent
                  : chunk.map((c) => messageKey(c.message))),
              );
              errors.push(error);
            }
          }),
        );
      }),
    );
    if (unsent.length > 0)
      throw new SqsQueueError(`SQS did not take ${unsent.length} message(s)`, unsent, {
        cause: errors[0],
      });
  }

  async #sendBatch(
    url: string,
    batch: readonly { message: OutMessage; body: string }[],
    now: number,
  ): Promise<void> {
    const keys = batch.map(({ message }) => messageKey(message));
    let pending = batch.map(({ message, body }, index) => ({
      Id: String(index),
      MessageBody: body,
      DelaySeconds: delaySeconds(message.notBefore, now),
    }));
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      const result = await this.#client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }),
      );
      const failed = new Set((result.Failed ?? []).map((f) => f.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
    if (pending.length > 0)
      throw new SqsQueueError(
        `SQS refused ${pending.length} message(s) for ${url}`,
        pending.map((entry) => keys[Number(entry.Id)] ?? entry.Id),
      );
  }
}

/** Receives from one SQS queue for the local poller. */
export class SqsQueueConsumer implements QueueConsumer {
  readonly #client: Pick<SQSClient, "send">;
  readonly #url: string;

  constructor(client: SQSClient | AwsJsonClient, url: string) {
    this.#client = client as Pick<SQSClient, "send">;
    this.#url = url;
  }

  async receive(max: number, waitMs: number): Promise<ReceivedMessage[]> {
    const result = await this.#client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#url,
        MaxNumberOfMessages: Math.min(max, SQS_MAX_BATCH),
        WaitTimeSeconds: Math.min(20, Math.floor(waitMs / 1000)),
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    return (result.Messages ?? []).flatMap((message) => {
      if (!message.ReceiptHandle || message.Body === undefined) return [];
      let envelope: OutMessage;
      try {
        envelope = JSON.parse(message.Body) as OutMessage;
      } catch {
        // Not ours: leave it invisible until the queue's redrive policy dead-letters it.
        return [];
      }
      return [
        {
          receipt: message.ReceiptHandle,
          envelope,
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
        },
      ];
    });
  }

  async delete(receipts: readonly string[]): Promise<void> {
    for (let i = 0; i < receipts.length; i += SQS_MAX_BATCH) {
      await this.#client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.#url,
          Entries: receipts
            .slice(i, i + SQS_MAX_BATCH)
            .map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
        }),
      );
    }
  }

  async extend(receipts: readonly string[], ms: number): Promise<void> {
    for (let i = 0; i < receipts.length; i += SQS_MAX_BATCH) {
      await this.#client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#url,
          Entries: receipts.slice(i, i + SQS_MAX_BATCH).map((handle, index) => ({
            Id: String(index),
            ReceiptHandle: handle,
            VisibilityTimeout: Math.min(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, Math.ceil(ms / 1000)),
          })),
        }),
      );
    }
  }

  async release(receipt: string, delayMs: number): Promise<void> {
    await this.#client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.#url,
        ReceiptHandle: receipt,
        VisibilityTimeout: Math.min(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, Math.ceil(delayMs / 1000)),
      }),
    );
  }
}
