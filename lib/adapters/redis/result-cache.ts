/**
 * The result cache on Redis or Valkey (ElastiCache Serverless on AWS): `SET key value
 * PX ttl` and `GET key`. The client is built once per process by `createRedisClient`
 * and passed in.
 */
import { Redis } from "ioredis";
import type { ResultCache } from "../../core/ports.ts";

/** A command that takes longer than this counts as a miss (the activity runs instead). */
export const CACHE_COMMAND_TIMEOUT_MS = 200;

export class RedisResultCache implements ResultCache {
  readonly #client: Redis;

  constructor(client: Redis) {
    this.#client = client;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#client.get(key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#client.set(key, value, "PX", Math.max(1, Math.round(ttlMs)));
  }
}

/**
 * A client for `url` (`redis://host:6379`, or `rediss://` for TLS as ElastiCache uses).
 * It fails fast instead of queueing commands while disconnected: a cache that is down
 * must cost a miss, not a stalled transition.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: CACHE_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
  });
}
