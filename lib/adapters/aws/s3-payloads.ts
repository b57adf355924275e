/** The PayloadStore on S3: offloaded values by key, in one bucket. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { PayloadStore } from "../../core/ports.ts";

/** Bodies larger than this are uploaded in parts (S3's multipart upload; parts are at least 5 MiB). */
export const MULTIPART_THRESHOLD_BYTES = 8 * 1024 * 1024;

export class S3PayloadStore implements PayloadStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async put(key: string, body: string): Promise<void> {
    const params = { Bucket: this.#bucket, Key: key, Body: body, ContentType: "application/json" };
    if (Buffer.byteLength(body) <= MULTIPART_THRESHOLD_BYTES) {
      await this.#client.send(new PutObjectCommand(params));
      return;
    }
    await new Upload({
      client: this.#client,
      params,
      partSize: MULTIPART_THRESHOLD_BYTES,
      queueSize: 4,
    }).done();
  }

  async get(key: string): Promise<string> {
    const result = await this.#client.send(
      new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
    );
    if (!result.Body) throw new Error(`payload ${key} has no body`);
    return result.Body.transformToString("utf8");
  }
}
