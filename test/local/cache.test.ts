/** `cascade dev`'s result cache: off unless cascade.yaml enables it; a real Redis when one answers, else memory with a warning. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAppConfig } from "../../lib/app/config.ts";
import { openLocalCache } from "../../lib/local/cache.ts";

const configWith = (yaml: string) => {
  const { config } = parseAppConfig("cascade.yaml", yaml, "/apps/shop");
  assert.ok(config);
  return config;
};
const REDIS = process.env.CASCADE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

test("no cache unless cascade.yaml enables it", async () => {
  assert.equal(await openLocalCache(configWith("name: shop\n"), () => {}, REDIS), undefined);
});

test("enabled: the Redis server when it answers (CI starts one), results round-trip", async () => {
  const warnings: string[] = [];
  const local = await openLocalCache(
    configWith("cache: { enabled: true }\n"),
    (w) => warnings.push(w),
    REDIS,
  );
  assert.ok(local);
  try {
    assert.equal(
      local.where,
      REDIS,
      `no Redis at ${REDIS}: start one (see test/runtime/cache-redis.test.ts)`,
    );
    assert.deepEqual(warnings, []);
    const key = `dev-cache-test:${Math.random()}`;
    await local.cache.set(key, "42", 5_000);
    assert.equal(await local.cache.get(key), "42");
  } finally {
    local.close();
  }
});

test("enabled but no server: memory, and a warning that says how to use one", async () => {
  const warnings: string[] = [];
  const local = await openLocalCache(
    configWith("cache: { enabled: true }\n"),
    (w) => warnings.push(w),
    "redis://127.0.0.1:1",
  );
  assert.equal(local?.where, "memory");
  assert.match(warnings[0] ?? "", /CASCADE_CACHE_URL/);
  await local?.cache.set("k", "v", 1_000);
  assert.equal(await local?.cache.get("k"), "v");
});
