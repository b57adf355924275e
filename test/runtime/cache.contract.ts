/** The result-cache contract: every ResultCache adapter passes the same suite. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResultCache } from "../../lib/core/ports.ts";

export function cacheContract(
  name: string,
  make: () => Promise<{ cache: ResultCache; wait: (ms: number) => Promise<void> }>,
): void {
  test(`${name}: a value is read back until its time is up`, async () => {
    const { cache, wait } = await make();
    const key = `contract:${name}:${Math.random()}`;
    assert.equal(await cache.get(key), undefined);
    await cache.set(key, JSON.stringify({ ok: true, n: 1 }), 150);
    assert.equal(await cache.get(key), '{"ok":true,"n":1}');
    await cache.set(key, JSON.stringify({ ok: true, n: 2 }), 150);
    assert.equal(await cache.get(key), '{"ok":true,"n":2}', "a second set replaces the value");
    await wait(300);
    assert.equal(await cache.get(key), undefined, "expired");
  });

  test(`${name}: keys are independent; large values survive intact`, async () => {
    const { cache } = await make();
    const a = `contract:${name}:a:${Math.random()}`;
    const b = `contract:${name}:b:${Math.random()}`;
    const big = JSON.stringify({ blob: "é".repeat(200_000) });
    await cache.set(a, big, 10_000);
    assert.equal(await cache.get(b), undefined);
    assert.equal(await cache.get(a), big);
  });

  test(`${name}: delete removes a key, and deleting an absent key is no error`, async () => {
    const { cache } = await make();
    const key = `contract:${name}:d:${Math.random()}`;
    await cache.set(key, "1", 10_000);
    await cache.delete(key);
    assert.equal(await cache.get(key), undefined);
    await cache.delete(key);
  });
}
