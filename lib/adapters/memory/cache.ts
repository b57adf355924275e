/** The result cache in memory, on an injected clock: for simulations, and locally when no Redis is configured. */
import type { Clock, ResultCache } from "../../core/ports.ts";

export class MemoryResultCache implements ResultCache {
  readonly #entries = new Map<string, { value: string; until: number }>();
  readonly #clock: Clock;
  /** At most this many entries; the oldest go first. */
  readonly #capacity: number;

  constructor(clock: Clock = { now: () => Date.now() }, capacity = 10_000) {
    this.#clock = clock;
    this.#capacity = capacity;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, until: this.#clock.now() + ttlMs });
  }
}
