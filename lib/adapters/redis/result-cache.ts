/**
 * The result cache on Redis or Valkey (ElastiCache Serverless on AWS): `SET key value
 * PX ttl` and `GET key`. The client is built once per process by `createRedisClient`
 * and passed in.
 */
import { Cluster, Redis } from "ioredis";
import type { ResultCache } from "../../core/ports.ts";

/** A command that takes longer than this counts as a miss (the activity runs instead). */
export const CACHE_COMMAND_TIMEOUT_MS = 200;

export class RedisResultCache implements ResultCache {
  readonly #client: Redis | Cluster;

  constructor(client: Redis | Cluster) {
    this.#client = client;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#client.get(key)) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(key);
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

/**
 * A client for ElastiCache Serverless (`host:port`): cluster mode over TLS, as AWS
 * documents for ioredis, failing fast like `createRedisClient`.
 */
export function createElastiCacheClient(endpoint: string): Cluster {
  const [host = endpoint, port = "6379"] = endpoint.split(":");
  const cluster = new Cluster([{ host, port: Number(port) }], {
    dnsLookup: (address, callback) => callback(null, address),
    enableOfflineQueue: false,
    redisOptions: {
      tls: {},
      maxRetriesPerRequest: 1,
      commandTimeout: CACHE_COMMAND_TIMEOUT_MS,
      connectTimeout: 2_000,
    },
  });
  // Failures surface as failed commands, which the runtime counts as misses.
  cluster.on("error", () => {});
  return cluster;
}
