/**
 * AWS's size limits, enforced by the memory adapters so that seeded simulations meet
 * them where DynamoDB and SQS would: an item over 400 KB, a message over 256 KiB.
 */
import { DYNAMODB_ITEM_LIMIT_BYTES, SQS_MESSAGE_LIMIT_BYTES } from "../../manifest/index.ts";

/** Raised where AWS would refuse the write or the send (a ValidationException). */
export class LimitExceededError extends Error {
  readonly bytes: number;
  readonly limit: number;
  constructor(what: string, bytes: number, limit: number) {
    super(`${what} of ${bytes} bytes is over AWS's limit of ${limit} bytes`);
    this.name = "ValidationException";
    this.bytes = bytes;
    this.limit = limit;
  }
}

/**
 * Checks a stored record against DynamoDB's 400 KB item limit, approximated by its JSON
 * (the DynamoDB adapter stores records as one JSON attribute plus a few small keys).
 * @returns the record's size in bytes.
 * @throws LimitExceededError over the limit.
 */
export function assertItemWithinLimits(record: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(record));
  if (bytes > DYNAMODB_ITEM_LIMIT_BYTES)
    throw new LimitExceededError("an item", bytes, DYNAMODB_ITEM_LIMIT_BYTES);
  return bytes;
}

/**
 * Checks a message body against SQS's 256 KiB limit.
 * @returns its size in bytes. @throws LimitExceededError over the limit.
 */
export function assertMessageWithinLimits(body: string): number {
  const bytes = Buffer.byteLength(body);
  if (bytes > SQS_MESSAGE_LIMIT_BYTES)
    throw new LimitExceededError("a message", bytes, SQS_MESSAGE_LIMIT_BYTES);
  return bytes;
}
