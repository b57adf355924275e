import type { PayloadStore } from "../../core/ports.ts";
import { assertObjectWithinLimits } from "./limits.ts";

/** An in-memory PayloadStore, with S3's key and object limits. */
export class MemoryPayloadStore implements PayloadStore {
  readonly objects = new Map<string, string>();
  readonly calls = { puts: 0, gets: 0 };

  /** @throws AwsLimitError for a key over 1024 bytes (S3's limit) */
  async put(key: string, body: string): Promise<void> {
    assertObjectWithinLimits(key, body);
    this.calls.puts++;
    this.objects.set(key, body);
  }

  async get(key: string): Promise<string> {
    this.calls.gets++;
    const body = this.objects.get(key);
    if (body === undefined) throw new Error(`no payload ${key}`);
    return body;
  }
}
