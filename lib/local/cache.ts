/**
 * The Task result cache of `cascade dev`: when `cascade.yaml` enables it, a Redis or
 * Valkey server (CASCADE_CACHE_URL, default redis://127.0.0.1:6379) as on AWS, else
 * — with a warning — a cache in this process's memory.
 */
import { MemoryResultCache } from "../adapters/memory/cache.ts";
import { createRedisClient, RedisResultCache } from "../adapters/redis/result-cache.ts";
import { TieredCache } from "../adapters/tiered-cache.ts";
import type { AppConfig } from "../app/config.ts";
import type { ResultCache } from "../core/ports.ts";

/** Where `cascade dev` looks for a cache server. */
export const LOCAL_CACHE_URL = "redis://127.0.0.1:6379";
/** How long `cascade dev` waits for the cache server before falling back to memory. */
const CACHE_CONNECT_MS = 1_500;

export interface LocalCache {
  readonly cache: ResultCache;
  /** `redis://…` or `memory`. */
  readonly where: string;
  close(): void;
}

/** The cache `cascade.yaml` asks for, or undefined when it is off. */
export async function openLocalCache(
  config: AppConfig,
  warn: (message: string) => void,
  url: string = process.env.CASCADE_CACHE_URL ?? LOCAL_CACHE_URL,
): Promise<LocalCache | undefined> {
  if (!config.cache.enabled) return undefined;
  const tiers = { defaultTtlMs: config.cache.ttlSeconds * 1000 };
  const client = createRedisClient(url);
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), CACHE_CONNECT_MS);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve(true);
    });
    client.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (ready) {
    client.on("error", () => {});
    return {
      cache: new TieredCache(new RedisResultCache(client), tiers),
      where: url,
      close: () => client.disconnect(),
    };
  }
  client.disconnect();
  warn(
    `cache.enabled, but no Redis/Valkey answers at ${url}: caching in memory (set CASCADE_CACHE_URL to use a server)`,
  );
  return {
    cache: new TieredCache(new MemoryResultCache(), tiers),
    where: "memory",
    close: () => {},
  };
}
