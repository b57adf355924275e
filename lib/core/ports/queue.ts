/** The queue ports: sending messages, and what a poller needs to receive them. */

import type { OutMessage } from "./records.ts";

/**
 * Sends messages: batched, delayed when `notBefore` is in the future (chained past
 * SQS's 15 minutes). @throws an error with `unsent` (the `messageKey`s of those not
 * sent; the others were) when the queue refused some of them.
 */
export interface MessageQueue {
  send(messages: readonly OutMessage[], now: number): Promise<void>;
}

/**
 * A message's identity across executions: logical ids are unique within an execution
 * (`root#3/0` names a step of that execution's root).
 */
export function messageKey(message: OutMessage): string {
  return keyInExecution(message.body.header, message.mid);
}

/** The `messageKey` of logical id `mid` in an execution. */
export function keyInExecution(
  header: { readonly tenant: string; readonly executionId: string },
  mid: string,
): string {
  return `${header.tenant}\u0000${header.executionId}\u0000${mid}`;
}

/** The keys (`messageKey`) of the messages a failed `send` did not send, when it says which. */
export function unsentOf(error: unknown): readonly string[] | undefined {
  const unsent = (error as { unsent?: unknown } | null)?.unsent;
  return Array.isArray(unsent) && unsent.every((m) => typeof m === "string") ? unsent : undefined;
}

/** A message as a queue consumer receives it (Lambda's SQS event source, reduced). */
export interface ReceivedMessage {
  /** Identifies this delivery, for delete and release. */
  readonly receipt: string;
  readonly envelope: OutMessage;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
}

/** What a poller needs from a queue: Lambda's SQS event source, reduced to four calls. */
export interface QueueConsumer {
  /** Up to `max` visible messages, waiting up to `waitMs` for the first. */
  receive(max: number, waitMs: number): Promise<ReceivedMessage[]>;
  /** Deletes delivered messages: their work is done. */
  delete(receipts: readonly string[]): Promise<void>;
  /** Makes a failed delivery visible again after `delayMs` (SQS: ChangeMessageVisibility). */
  release(receipt: string, delayMs: number): Promise<void>;
  /** Keeps deliveries invisible for another `ms` while they are being handled. */
  extend(receipts: readonly string[], ms: number): Promise<void>;
}
