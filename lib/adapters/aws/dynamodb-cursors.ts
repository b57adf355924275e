/**
 * The DynamoDB store's errors and cursors: a cursor is the last key a page read
 * (base64url JSON), and for history also how many events of the next item to skip. A
 * cursor this store did not issue is refused with a StoreError `INVALID_CURSOR`.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { StoreError } from "../../core/ports.ts";

type Item = Record<string, AttributeValue>;

/** Raised when DynamoDB keeps refusing part of a batch. */
export class DynamoDbStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DynamoDbStoreError";
  }
}

export function encodeHistoryCursor(cursor: { after?: Item; skip: number }): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

export function decodeHistoryCursor(cursor: string): { after?: Item; skip: number } {
  const value = decodeCursor(cursor) as unknown as { after?: Item; skip?: unknown };
  if (typeof value.skip === "number" && Number.isInteger(value.skip) && value.skip >= 0) {
    return { ...(value.after ? { after: value.after } : {}), skip: value.skip };
  }
  throw new StoreError("INVALID_CURSOR", "the history cursor is not one this store issued");
}

export function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): Item {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Item;
  } catch {
    // fall through to the error below
  }
  throw new StoreError("INVALID_CURSOR", "the cursor is not one this service issued");
}

/** DynamoDB refuses a start key outside the query's partition: a cursor it did not issue. */
export async function cursorFaults<T>(
  cursor: string | undefined,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (cursor !== undefined && (error as { name?: unknown }).name === "ValidationException")
      throw new StoreError("INVALID_CURSOR", "the cursor is not one this store issued", {
        cause: error,
      });
    throw error;
  }
}
