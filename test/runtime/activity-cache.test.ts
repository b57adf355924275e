/** `ctx.cache` and the Task cache over two tiers: L1 in the process, L2 behind it; a failing cache is a miss. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryResultCache } from "../../lib/adapters/memory/cache.ts";
import { TieredCache } from "../../lib/adapters/tiered-cache.ts";
import type { ActivityContext } from "../../lib/core/activity.ts";
import type { ResultCache } from "../../lib/core/ports.ts";
import { memoryStack } from "../support/memory-stack.ts";

const WORKFLOW = `
name: Cached
states:
  - name: Read
    type: Task
    resource: urn:cascade:activity:read
    end: true
`;

const reader = async (_input: unknown, ctx: ActivityContext) => {
  const before = await ctx.cache.get<number>("count");
  await ctx.cache.set("count", (before ?? 0) + 1, 60_000);
  const after = await ctx.cache.get<number>("count");
  await ctx.cache.delete("gone");
  return { before: before ?? null, after: after ?? null, deadline: ctx.deadline ?? null };
};

const metricsOf = (lines: readonly string[]) =>
  lines
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((m) => m.CacheHits !== undefined || m.CacheMisses !== undefined);

test("ctx.cache reads what it wrote, namespaced per tenant and app, and counts hits per tier", async () => {
  const l2 = new MemoryResultCache();
  const cache = new TieredCache(l2, { defaultTtlMs: 1_000 });
  const stack = memoryStack({
    workflows: [{ file: "cached.yaml", source: WORKFLOW }],
    activities: { read: reader },
    cache,
  });
  await stack.runtime.startExecution("Cached", {}, { id: "c-1" });
  await stack.drain();
  const record = await stack.execution("c-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  const data = record && "inline" in record.thread.data ? record.thread.data.inline : undefined;
  assert.deepEqual(data, { before: null, after: 1, deadline: null });
  assert.equal(await l2.get("cascade:default:test:kv:count"), "1", "L2 holds the tenant's key");
  await stack.runtime.startExecution("Cached", {}, { id: "c-2", tenant: "acme" });
  await stack.drain();
  const other = await stack.execution("c-2", "acme");
  const otherData = other && "inline" in other.thread.data ? other.thread.data.inline : undefined;
  assert.deepEqual(otherData, { before: null, after: 1, deadline: null }, "tenants never share");
  const tiers = metricsOf(stack.lines).map((m) => `${m.tier}:${m.CacheHits ? "hit" : "miss"}`);
  assert.ok(tiers.includes("L1:miss") && tiers.includes("L2:miss"), tiers.join(","));
  assert.ok(tiers.includes("L1:hit"), "the read after the write hits L1");
});

test("a cache whose L2 fails is a miss and a no-op: the step still succeeds", async () => {
  const broken: ResultCache = {
    get: async () => {
      throw new Error("connection refused");
    },
    set: async () => {
      throw new Error("connection refused");
    },
    delete: async () => {
      throw new Error("connection refused");
    },
  };
  const stack = memoryStack({
    workflows: [{ file: "cached.yaml", source: WORKFLOW }],
    activities: { read: reader },
    cache: new TieredCache(broken),
  });
  await stack.runtime.startExecution("Cached", {}, { id: "b-1" });
  await stack.drain();
  const record = await stack.execution("b-1");
  assert.equal(record?.thread.status, "succeeded", JSON.stringify(record?.thread.error));
  const data = record && "inline" in record.thread.data ? record.thread.data.inline : undefined;
  assert.deepEqual(data, { before: null, after: null, deadline: null });
  assert.ok(stack.lines.some((l) => l.includes("cache write failed")));
});

test("L1 serves a copy at most l1TtlMs after another process deleted it from L2", async () => {
  let now = 0;
  const clock = { now: () => now };
  const l2 = new MemoryResultCache(clock);
  const a = new TieredCache(l2, { clock, l1TtlMs: 100 });
  const b = new TieredCache(l2, { clock, l1TtlMs: 100 });
  await a.set("k", "1", 10_000);
  assert.equal((await b.lookup("k")).tier, "L2");
  assert.equal((await b.lookup("k")).tier, "L1");
  await a.delete("k");
  assert.equal(await a.get("k"), undefined, "the writer's own L1 forgets at once");
  assert.equal(await b.get("k"), "1", "another process's L1 is stale for a while");
  now += 101;
  assert.equal(await b.get("k"), undefined, "and no longer than l1TtlMs");
});

test("ctx.cache.set refuses a TTL that is not positive", async () => {
  const stack = memoryStack({
    workflows: [{ file: "cached.yaml", source: WORKFLOW }],
    activities: {
      read: async (_i: unknown, ctx: ActivityContext) => {
        await ctx.cache.set("k", 1, 0);
      },
    },
    cache: new TieredCache(new MemoryResultCache()),
  });
  await stack.runtime.startExecution("Cached", {}, { id: "t-1" });
  await stack.drain();
  const record = await stack.execution("t-1");
  assert.equal(record?.thread.status, "failed");
  assert.equal(record?.thread.error?.name, "RangeError");
});
