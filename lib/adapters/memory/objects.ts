/** An in-memory ObjectStore, with S3's key and object limits and its range semantics. */
import { type ObjectInfo, ObjectNotFoundError, type ObjectStore } from "../../core/ports.ts";
import { S3_OBJECT_LIMIT_BYTES } from "../../manifest/index.ts";
import { AwsLimitError, assertObjectWithinLimits } from "./limits.ts";

const encoder = new TextEncoder();

/**
 * Objects by bucket and key. Buckets exist once created (`createBucket`, or the
 * constructor's list): writing to another bucket fails as S3's `NoSuchBucket` does.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly buckets = new Map<string, Map<string, Uint8Array>>();
  /** Each put's ETag, as S3 gives one per version of an object. */
  readonly #etags = new WeakMap<Uint8Array, string>();
  #puts = 0;
  /** Requests made, and the bytes `getRange` returned (to check that readers page). */
  readonly calls = { heads: 0, ranges: 0, puts: 0, bytesRead: 0 };

  constructor(buckets: readonly string[] = []) {
    for (const bucket of buckets) this.createBucket(bucket);
  }

  createBucket(bucket: string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    this.calls.heads++;
    const body = this.buckets.get(bucket)?.get(key);
    if (body === undefined) return undefined;
    const etag = this.#etags.get(body);
    return etag === undefined ? { size: body.byteLength } : { size: body.byteLength, etag };
  }

  /** @throws ObjectNotFoundError for a missing object; RangeError for a range S3 would refuse (416) */
  async getRange(
    bucket: string,
    key: string,
    start: number,
    endExclusive: number,
  ): Promise<Uint8Array> {
    this.calls.ranges++;
    const body = this.buckets.get(bucket)?.get(key);
    if (body === undefined) throw new ObjectNotFoundError(bucket, key);
    if (!(start >= 0 && start < body.byteLength && endExclusive > start)) {
      throw new RangeError(
        `InvalidRange: bytes=${start}-${endExclusive - 1} of s3://${bucket}/${key} (${body.byteLength} bytes)`,
      );
    }
    const bytes = body.slice(start, Math.min(endExclusive, body.byteLength));
    this.calls.bytesRead += bytes.byteLength;
    return bytes;
  }

  /** @throws AwsLimitError for a key over 1024 bytes or an object over 5 TiB; ObjectNotFoundError for an unknown bucket */
  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    this.calls.puts++;
    assertObjectWithinLimits(key, "");
    const bytes = typeof body === "string" ? encoder.encode(body) : body.slice();
    if (bytes.byteLength > S3_OBJECT_LIMIT_BYTES) {
      throw new AwsLimitError(
        "S3",
        "EntityTooLarge",
        `the object '${key}' is too large`,
        S3_OBJECT_LIMIT_BYTES,
        bytes.byteLength,
      );
    }
    const objects = this.buckets.get(bucket);
    if (!objects) throw new ObjectNotFoundError(bucket, key);
    this.#etags.set(bytes, `"${++this.#puts}"`);
    objects.set(key, bytes);
  }

  /** An object's text (UTF-8), for tests. */
  text(bucket: string, key: string): string | undefined {
    const body = this.buckets.get(bucket)?.get(key);
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }
}
