/**
 * The seed's cache: an in-process L1 (bounded, short TTL) in front of an L2 `ResultCache`
 * (Redis/Valkey; ElastiCache on AWS). Reads try L1, then L2 (filling L1); writes and
 * deletes go to L2 first, then L1. L1 entries live at most `l1TtlMs`, so a copy that a
 * write in another process made stale is served for at most that long. Both the Task
 * `cache:` policy and `ctx.cache` use it.
 */
import type { CacheLookup, CacheTier, Clock, ResultCache } from "../core/ports.ts";
import { MemoryResultCache } from "./memory/cache.ts";

/** L1's default size, in entries (the oldest go first). */
export const DEFAULT_L1_ENTRIES = 1_000;
/** L1's default longest TTL, in ms: how long another process's stale copy may be served. */
export const DEFAULT_L1_TTL_MS = 5_000;
/** The default TTL of `ctx.cache.set` without one, in ms, when cascade.yaml sets no `cache.ttl`. */
export const DEFAULT_CACHE_TTL_MS = 300_000;

export interface TieredCacheOptions {
  readonly clock?: Clock;
  readonly l1Entries?: number;
  readonly l1TtlMs?: number;
  /** `cache.ttl` of cascade.yaml, in ms: the TTL of a `ctx.cache.set` that gives none. */
  readonly defaultTtlMs?: number;
}

export class TieredCache implements ResultCache {
  readonly l1: MemoryResultCache;
  readonly l2: ResultCache;
  readonly l1TtlMs: number;
  readonly defaultTtlMs: number;

  constructor(l2: ResultCache, options: TieredCacheOptions = {}) {
    this.l2 = l2;
    this.l1 = new MemoryResultCache(options.clock, options.l1Entries ?? DEFAULT_L1_ENTRIES);
    this.l1TtlMs = options.l1TtlMs ?? DEFAULT_L1_TTL_MS;
    this.defaultTtlMs = options.defaultTtlMs ?? DEFAULT_CACHE_TTL_MS;
  }

  /**
   * The value and the tier that had it, with a miss per tier tried. A failing L2 is a
   * miss there (reported in `l2Error`), never an exception.
   */
  async lookup(key: string): Promise<CacheLookup> {
    const near = await this.l1.get(key);
    if (near !== undefined) return { value: near, tier: "L1", misses: [] };
    try {
      const far = await this.l2.get(key);
      if (far === undefined) return { misses: ["L1", "L2"] as CacheTier[] };
      await this.l1.set(key, far, this.l1TtlMs);
      return { value: far, tier: "L2", misses: ["L1"] };
    } catch (error) {
      return { misses: ["L1", "L2"], l2Error: error };
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.lookup(key)).value;
  }

  /** Writes L2, then L1 (for at most `l1TtlMs`); a failed L2 write leaves L1 without the entry. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.l1.delete(key);
    await this.l2.set(key, value, ttlMs);
    await this.l1.set(key, value, Math.min(ttlMs, this.l1TtlMs));
  }

  /** Deletes from L1 first (so this process never serves it again), then from L2. */
  async delete(key: string): Promise<void> {
    await this.l1.delete(key);
    await this.l2.delete(key);
  }
}
