/** Large payloads by key, and objects in the user's own buckets. */

/** Large JSON values, by key. */
export interface PayloadStore {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
}

/** What `ObjectStore.head` says of an object. */
export interface ObjectInfo {
  /** Bytes. */
  readonly size: number;
  /** The object's entity tag, when the store gives one (S3 does). */
  readonly etag?: string;
}

/**
 * Objects in the user's own buckets, by bucket and key: what a Map reads its items
 * from (`item_reader:`) and writes its results to (`result_writer:`). Reads are byte
 * ranges, so no caller ever holds a whole object. S3 on AWS (and fauxqs locally),
 * memory in the simulations.
 */
export interface ObjectStore {
  /** The object's size, or undefined when there is no such object. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /**
   * The bytes `[start, endExclusive)` of the object (S3's `Range: bytes=start-(end-1)`);
   * a range running past the end gives the bytes up to the end. `start < endExclusive`
   * and `start` is inside the object.
   * @throws ObjectNotFoundError when there is no such object
   */
  getRange(bucket: string, key: string, start: number, endExclusive: number): Promise<Uint8Array>;
  /**
   * Writes (or overwrites) an object; the S3 adapter uploads large bodies in parts
   * (S3's object limit is 5 TiB, its key limit 1024 bytes).
   */
  put(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options?: { readonly contentType?: string },
  ): Promise<void>;
}

/** There is no such object (or bucket): S3's `NoSuchKey`/`NoSuchBucket`, by name. */
export class ObjectNotFoundError extends Error {
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, options?: { cause?: unknown }) {
    super(`no object s3://${bucket}/${key}`, options);
    this.name = "ObjectNotFoundError";
    this.bucket = bucket;
    this.key = key;
  }
}
