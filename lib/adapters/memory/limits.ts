/**
 * AWS's size limits, checked by the in-memory adapters so that seeded simulations
 * fail where DynamoDB, SQS and S3 would refuse a request. The numbers come from
 * the manifest; each check throws an `AwsLimitError` carrying the error code the
 * service itself returns.
 */
import {
  DYNAMODB_ITEM_LIMIT_BYTES,
  DYNAMODB_PARTITION_KEY_LIMIT_BYTES,
  DYNAMODB_SORT_KEY_LIMIT_BYTES,
  S3_KEY_LIMIT_BYTES,
  S3_OBJECT_LIMIT_BYTES,
  SQS_MAX_BATCH,
  SQS_MESSAGE_LIMIT_BYTES,
} from "../../manifest/index.ts";

/** A request AWS would refuse for its size or content. */
export class AwsLimitError extends Error {
  readonly service: "DynamoDB" | "SQS" | "S3";
  /** The error code the service returns (`ValidationException`, `InvalidParameterValue`, …). */
  readonly code: string;
  /** The limit, and what the request had, in the limit's unit (bytes or entries). */
  readonly limit: number;
  readonly actual: number;
  constructor(
    service: AwsLimitError["service"],
    code: string,
    message: string,
    limit: number,
    actual: number,
  ) {
    super(`${service} ${code}: ${message} (${actual} > ${limit})`);
    this.name = "AwsLimitError";
    this.service = service;
    this.code = code;
    this.limit = limit;
    this.actual = actual;
  }
}

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/** Digits DynamoDB stores for a number: its significant digits (sign, exponent and padding zeros aside). */
function significantDigits(value: number): number {
  const digits = Math.abs(value)
    .toExponential()
    .replace(/e.*$/, "")
    .replace(".", "")
    .replace(/0+$/, "");
  return Math.max(1, digits.length);
}

/**
 * The size DynamoDB counts for one attribute value, following its documented rules:
 * strings by UTF-8 length, numbers about one byte per two significant digits plus
 * one (at most 21), booleans and null one byte, lists and maps 3 bytes plus one byte
 * per element plus their contents (a map's keys counted like attribute names).
 * `undefined` is not stored (the marshaller drops it).
 */
export function dynamoValueBytes(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null || typeof value === "boolean") return 1;
  if (typeof value === "string") return utf8(value);
  if (typeof value === "number") return Math.min(21, Math.ceil(significantDigits(value) / 2) + 1);
  if (typeof value === "bigint") return Math.min(21, Math.ceil(String(value).length / 2) + 1);
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) {
    let size = 3;
    for (const element of value) size += 1 + dynamoValueBytes(element ?? null);
    return size;
  }
  if (typeof value === "object") {
    let size = 3;
    for (const [key, element] of Object.entries(value)) {
      if (element === undefined) continue;
      size += 1 + utf8(key) + dynamoValueBytes(element);
    }
    return size;
  }
  return utf8(String(value));
}

/**
 * The size DynamoDB counts for an item: the UTF-8 length of every attribute name
 * plus the size of its value. For a store that keeps records as JSON-shaped
 * objects this approximates the marshalled item closely (DynamoDB's own count
 * differs by a few bytes per nested value at most).
 */
export function dynamoItemBytes(item: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += utf8(name) + dynamoValueBytes(value);
  }
  return size;
}

/**
 * Throws as DynamoDB's PutItem/UpdateItem/BatchWriteItem would for an item over
 * 400 KB (attribute names and values counted), or for keys over 2048 (partition)
 * and 1024 (sort) bytes.
 * @param what names the item in the message (its key, usually).
 * @throws AwsLimitError `ValidationException`
 */
export function assertItemWithinLimits(
  item: Readonly<Record<string, unknown>>,
  what = "item",
  keys?: { readonly partitionKey?: string; readonly sortKey?: string },
): void {
  const bytes = dynamoItemBytes(item);
  if (bytes > DYNAMODB_ITEM_LIMIT_BYTES) {
    throw new AwsLimitError(
      "DynamoDB",
      "ValidationException",
      `${what}: Item size has exceeded the maximum allowed size`,
      DYNAMODB_ITEM_LIMIT_BYTES,
      bytes,
    );
  }
  if (
    keys?.partitionKey !== undefined &&
    utf8(keys.partitionKey) > DYNAMODB_PARTITION_KEY_LIMIT_BYTES
  ) {
    throw new AwsLimitError(
      "DynamoDB",
      "ValidationException",
      `${what}: the partition key is too long`,
      DYNAMODB_PARTITION_KEY_LIMIT_BYTES,
      utf8(keys.partitionKey),
    );
  }
  if (keys?.sortKey !== undefined && utf8(keys.sortKey) > DYNAMODB_SORT_KEY_LIMIT_BYTES) {
    throw new AwsLimitError(
      "DynamoDB",
      "ValidationException",
      `${what}: the sort key is too long`,
      DYNAMODB_SORT_KEY_LIMIT_BYTES,
      utf8(keys.sortKey),
    );
  }
}

/**
 * Characters SQS accepts in a message body: #x9 | #xA | #xD | #x20–#xD7FF |
 * #xE000–#xFFFD | #x10000–#x10FFFF. JSON.stringify escapes control characters and
 * lone surrogates, but not U+FFFE or U+FFFF.
 */
const SQS_FORBIDDEN_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Throws as SQS's SendMessage would for a body over 256 KiB (UTF-8) or holding a
 * character SQS refuses.
 * @throws AwsLimitError `InvalidParameterValue` (too long) or `InvalidMessageContents`
 */
export function assertMessageWithinLimits(body: string, what = "message"): void {
  const bytes = utf8(body);
  if (bytes > SQS_MESSAGE_LIMIT_BYTES) {
    throw new AwsLimitError(
      "SQS",
      "InvalidParameterValue",
      `${what}: the message body is longer than SQS allows`,
      SQS_MESSAGE_LIMIT_BYTES,
      bytes,
    );
  }
  const bad = SQS_FORBIDDEN_CHARACTER.exec(body);
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0;
    throw new AwsLimitError(
      "SQS",
      "InvalidMessageContents",
      `${what}: U+${code.toString(16).toUpperCase().padStart(4, "0")} at ${bad.index} is not allowed in a message`,
      0,
      1,
    );
  }
}

/**
 * Throws as SQS's SendMessageBatch would: 1 to 10 entries, each a valid message,
 * and at most 256 KiB of bodies in the whole request.
 * @throws AwsLimitError `EmptyBatchRequest`, `TooManyEntriesInBatchRequest`, `BatchRequestTooLong`
 */
export function assertSendBatchWithinLimits(bodies: readonly string[]): void {
  if (bodies.length === 0)
    throw new AwsLimitError("SQS", "EmptyBatchRequest", "a batch needs an entry", 1, 0);
  if (bodies.length > SQS_MAX_BATCH) {
    throw new AwsLimitError(
      "SQS",
      "TooManyEntriesInBatchRequest",
      "too many entries in one SendMessageBatch",
      SQS_MAX_BATCH,
      bodies.length,
    );
  }
  let total = 0;
  for (const [index, body] of bodies.entries()) {
    assertMessageWithinLimits(body, `entry ${index}`);
    total += utf8(body);
  }
  if (total > SQS_MESSAGE_LIMIT_BYTES) {
    throw new AwsLimitError(
      "SQS",
      "BatchRequestTooLong",
      "the entries of one SendMessageBatch are longer than SQS allows together",
      SQS_MESSAGE_LIMIT_BYTES,
      total,
    );
  }
}

/**
 * Throws as S3's PutObject would for a key over 1024 bytes (UTF-8) or an object
 * over 5 TiB (the multipart ceiling).
 * @throws AwsLimitError `KeyTooLongError` or `EntityTooLarge`
 */
export function assertObjectWithinLimits(key: string, body: string): void {
  if (utf8(key) > S3_KEY_LIMIT_BYTES) {
    throw new AwsLimitError(
      "S3",
      "KeyTooLongError",
      `the key '${key.slice(0, 80)}…' is too long`,
      S3_KEY_LIMIT_BYTES,
      utf8(key),
    );
  }
  if (utf8(body) > S3_OBJECT_LIMIT_BYTES) {
    throw new AwsLimitError(
      "S3",
      "EntityTooLarge",
      `the object '${key}' is too large`,
      S3_OBJECT_LIMIT_BYTES,
      utf8(body),
    );
  }
}

/**
 * Splits message bodies into SendMessageBatch requests the way the SQS adapter
 * does: greedily, at most 10 entries and 256 KiB per request.
 * @throws AwsLimitError when one body alone breaks a limit
 */
export function sqsBatches(bodies: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const [index, body] of bodies.entries()) {
    assertMessageWithinLimits(body, `message ${index}`);
    const size = utf8(body);
    if (
      current.length > 0 &&
      (current.length === SQS_MAX_BATCH || bytes + size > SQS_MESSAGE_LIMIT_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  for (const batch of batches) assertSendBatchWithinLimits(batch);
  return batches;
}
