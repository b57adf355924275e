/**
 * A wide join's shards and tally in the memory store, as the DynamoDB adapter keeps
 * them (lib/adapters/aws/dynamodb-wide-joins.ts): each shard two sets of ended items,
 * the tally the finished shards and each shard's failures.
 */
import { ENDED_STEP_UNKNOWN, type JoinTally, type ShardTally } from "../../core/ports.ts";
import type { MemoryExecutionStore } from "./store.ts";

/** The store's state a wide join reads and writes. */
export type WideJoinState = Pick<MemoryExecutionStore, "calls" | "shards" | "tallies" | "expiries">;

export async function tallyShard(
  store: WideJoinState,
  joinKey: string,
  shard: number,
  add: ShardTally,
  measure: (record: unknown) => void,
  expiresAt?: number,
): Promise<{ before: ShardTally; after: ShardTally }> {
  store.calls.writes++;
  const key = `${joinKey}#s${shard}`;
  const entry = store.shards.get(key) ?? { ok: new Map(), bad: new Map() };
  const before = shardOf(entry);
  // A set: an element already there stays as it was.
  const cap = (step: number) => Math.min(step, ENDED_STEP_UNKNOWN);
  for (const { index, step } of add.ok) if (!entry.ok.has(index)) entry.ok.set(index, cap(step));
  for (const { index, step } of add.bad) if (!entry.bad.has(index)) entry.bad.set(index, cap(step));
  store.shards.set(key, entry);
  const after = shardOf(entry);
  measure({ ok: after.ok.map(encodeEnded), bad: after.bad.map(encodeEnded) });
  if (expiresAt !== undefined) store.expiries.set(key, expiresAt);
  return { before, after };
}

export async function readShards(
  store: WideJoinState,
  joinKey: string,
  shards: readonly number[],
): Promise<Map<number, ShardTally>> {
  const out = new Map<number, ShardTally>();
  for (const shard of shards) {
    store.calls.reads++;
    const entry = store.shards.get(`${joinKey}#s${shard}`);
    if (entry) out.set(shard, shardOf(entry));
  }
  return out;
}

export async function tallyJoin(
  store: WideJoinState,
  joinKey: string,
  update: { readonly done?: number; readonly failures?: { shard: number; count: number } },
  expiresAt?: number,
): Promise<JoinTally> {
  store.calls.writes++;
  const key = `${joinKey}#t`;
  const entry = store.tallies.get(key) ?? { done: new Set(), failures: new Map() };
  if (update.done !== undefined) entry.done.add(update.done);
  const f = update.failures;
  if (f && (entry.failures.get(f.shard) ?? -1) < f.count) entry.failures.set(f.shard, f.count);
  store.tallies.set(key, entry);
  if (expiresAt !== undefined) store.expiries.set(key, expiresAt);
  let failures = 0;
  for (const count of entry.failures.values()) failures += count;
  return { shardsDone: entry.done.size, failures };
}

function shardOf(entry: { ok: Map<number, number>; bad: Map<number, number> }): ShardTally {
  const list = (m: Map<number, number>) =>
    [...m.entries()].map(([index, step]) => ({ index, step })).sort((a, b) => a.index - b.index);
  return { ok: list(entry.ok), bad: list(entry.bad) };
}

/** As the DynamoDB adapter stores an ended item in a number set (for the size check). */
function encodeEnded(ended: { index: number; step: number }): number {
  return ended.index * (ENDED_STEP_UNKNOWN + 1) + Math.min(ended.step, ENDED_STEP_UNKNOWN);
}
