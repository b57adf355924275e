/**
 * The ObjectStore on S3: the user's own buckets, read in byte ranges (GetObject with
 * `Range`) and written whole (PutObject, or a multipart upload when large). The
 * functions need `s3:GetObject` on the buckets a Map reads and `s3:PutObject` on those
 * it writes to (the construct grants them; see docs/deploy.md).
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { type ObjectInfo, ObjectNotFoundError, type ObjectStore } from "../../core/ports.ts";
import { MULTIPART_THRESHOLD_BYTES } from "./s3-payloads.ts";

/** S3's answers for a missing object or bucket, by error name. */
const MISSING = new Set(["NoSuchKey", "NoSuchBucket", "NotFound"]);

function isMissing(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return (
    (typeof e?.name === "string" && MISSING.has(e.name)) || e?.$metadata?.httpStatusCode === 404
  );
}

export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;

  /** `client`: built once per process (lib/adapters/aws/clients.ts). */
  constructor(client: S3Client) {
    this.#client = client;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const result = await this.#client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: result.ContentLength ?? 0,
        ...(result.ETag === undefined ? {} : { etag: result.ETag }),
      };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** @throws ObjectNotFoundError for a missing object or bucket; S3's own errors otherwise */
  async getRange(
    bucket: string,
    key: string,
    start: number,
    endExclusive: number,
  ): Promise<Uint8Array> {
    try {
      const result = await this.#client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: `bytes=${start}-${endExclusive - 1}`,
        }),
      );
      if (!result.Body) return new Uint8Array(0);
      return await result.Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(bucket, key, { cause: error });
      throw error;
    }
  }

  async put(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    options: { readonly contentType?: string } = {},
  ): Promise<void> {
    const params = {
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType ?? "application/json",
    };
    const size = typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
    if (size <= MULTIPART_THRESHOLD_BYTES) {
      await this.#client.send(new PutObjectCommand({ ...params, ContentLength: size }));
      return;
    }
    await new Upload({
      client: this.#client,
      params,
      partSize: MULTIPART_THRESHOLD_BYTES,
      queueSize: 4,
    }).done();
  }
}
