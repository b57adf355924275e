import type { PayloadStore } from "../../core/ports.ts";

/** An in-memory PayloadStore. */
export class MemoryPayloadStore implements PayloadStore {
  readonly objects = new Map<string, string>();
  readonly calls = { puts: 0, gets: 0 };

  async put(key: string, body: string): Promise<void> {
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
