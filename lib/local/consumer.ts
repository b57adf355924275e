/** What a poller needs from a queue: Lambda's SQS event source, reduced to three calls. */
import type { OutMessage } from "../core/ports.ts";

export interface ReceivedMessage {
  /** Identifies this delivery, for delete and release. */
  readonly receipt: string;
  readonly envelope: OutMessage;
  /** 1 on the first delivery. */
  readonly receiveCount: number;
}

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
