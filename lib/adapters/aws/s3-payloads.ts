/** The PayloadStore on S3: offloaded values by key, in one bucket. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { PayloadStore } from "../../core/ports.ts";

export class S3PayloadStore implements PayloadStore {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(client: S3Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async put(key: string, body: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: body,
        ContentType: "application/json",
      }),
    );
  }

  async get(key: string): Promise<string> {
    const result = await this.#client.send(
      new GetObjectCommand({ Bucket: this.#bucket, Key: key }),
    );
    if (!result.Body) throw new Error(`payload ${key} has no body`);
    return result.Body.transformToString("utf8");
  }
}
