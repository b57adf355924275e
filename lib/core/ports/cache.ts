/** The activity result cache. */

/**
 * Activity results by key, for Tasks with a `cache` policy (ElastiCache/Valkey on AWS,
 * Redis or memory locally). A cache is an optimisation: the runtime treats every
 * failure of it as a miss.
 */
export interface ResultCache {
  /** The cached JSON text, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Stores JSON text for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key` (no error when it is absent). */
  delete(key: string): Promise<void>;
  /**
   * A cache in tiers (lib/adapters/tiered-cache.ts) says which tier answered, for the
   * per-tier hit and miss metrics; without it the cache is one tier, counted as L2.
   */
  lookup?(key: string): Promise<CacheLookup>;
  /** The TTL of a `ctx.cache.set` that gives none, in ms (cascade.yaml `cache.ttl`). */
  readonly defaultTtlMs?: number;
}

/** A tier of the cache: L1 in the process, L2 Redis/Valkey. */
export type CacheTier = "L1" | "L2";

/** What a tiered lookup found: the value and the tier that had it, and a miss per tier tried. */
export interface CacheLookup {
  readonly value?: string;
  readonly tier?: CacheTier;
  readonly misses: readonly CacheTier[];
  /** Why L2 failed, when it did (the lookup is then a miss). */
  readonly l2Error?: unknown;
}
