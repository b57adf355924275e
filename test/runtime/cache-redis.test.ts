/**
 * The cache contract on a real Redis (or Valkey) server: CASCADE_TEST_REDIS_URL, else
 * redis://127.0.0.1:6379. CI starts one (.ci/run); without one this fails and says how.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Redis } from "ioredis";
import { createRedisClient, RedisResultCache } from "../../lib/adapters/redis/result-cache.ts";
import { TieredCache } from "../../lib/adapters/tiered-cache.ts";
import { cacheContract } from "./cache.contract.ts";

const URL = process.env.CASCADE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
let client: Redis;

before(async () => {
  client = createRedisClient(URL);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve);
      client.once("error", reject);
    });
  } catch (error) {
    client.disconnect();
    throw new Error(
      `no Redis/Valkey server at ${URL} (${String(error)}). Start one with ` +
        "`redis-server --daemonize yes --port 6379 --save ''` (Debian: apt-get install redis-server), " +
        "or point CASCADE_TEST_REDIS_URL at one.",
    );
  }
});
after(() => client?.disconnect());

cacheContract("TieredCache over Redis", async () => ({
  cache: new TieredCache(new RedisResultCache(client), { l1TtlMs: 50 }),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}));

cacheContract("RedisResultCache", async () => ({
  cache: new RedisResultCache(client),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}));

test("with the server gone, a command fails at once instead of waiting in a queue", async () => {
  const gone = createRedisClient("redis://127.0.0.1:1");
  gone.on("error", () => {});
  const cache = new RedisResultCache(gone);
  await assert.rejects(
    cache.get("anything"),
    /enableOfflineQueue|Stream isn't writeable|ECONNREFUSED/,
  );
  gone.disconnect();
});
