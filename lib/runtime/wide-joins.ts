import {
  branchFailedError,
  branchThreadId,
  type JoinState,
  type ResultLocation,
  type WorkflowError,
} from "../core/engine/index.ts";
import type {
  ExecutionHeader,
  JoinRecord,
  JoinTally,
  OutMessage,
  ShardTally,
  ThreadRecord,
} from "../core/ports.ts";
import type { RuntimeContext } from "./context.ts";
import { RuntimeError } from "./errors.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { branchStartMessages, outboxOf } from "./outbox.ts";
import { type JoinReport, TRANSITIONS, type Work } from "./unit-of-work.ts";

/** Maps of this many items or more have a wide join (a runtime option can lower it). */
export const WIDE_JOIN_FROM = 256;
/** Items per shard: a shard's item stays well under 1 KB (one write unit). */
export const WIDE_JOIN_SHARD = 100;
/** Shards per page of the fan-in and of a cancel: 1,000 items a message. */
export const SHARDS_PER_PAGE = 10;
/**
 * A cancel page reads the shards of the items that started its items (i - C): past
 * this many, the items of a page are taken as all started (a cancel to one that never
 * started only marks it).
 */
const MAX_CAUSE_SHARDS = 100;

/** The wide join the fan-out creates, for a Map of `total` items. */
export function wideJoinOf(
  join: JoinState,
  from: number | undefined,
  writer?: ResultLocation,
): JoinRecord["wide"] | undefined {
  return join.kind === "map" && join.total >= (from ?? WIDE_JOIN_FROM)
    ? { shardSize: WIDE_JOIN_SHARD, ...(writer ? { writer } : {}) }
    : undefined;
}

/** One item's end as a report gives it. */
interface WideReport {
  readonly mid: string;
  readonly rederive: boolean;
  readonly index: number;
  readonly status: "succeeded" | "failed" | "cancelled";
  readonly step: number;
  readonly error?: WorkflowError;
}

export const shardCount = (join: JoinState, size: number) => Math.ceil(join.total / size);
const shardSizeOf = (join: JoinState, size: number, shard: number) =>
  Math.min(size, join.total - shard * size);

/**
 * Applies reports to a wide join: one shard write per shard they touch, a tally write
 * when a shard fills or fails, and the close when the join is decided.
 * @returns the messages each report causes, in the reports' order.
 */
export async function applyWideReports(
  rt: RuntimeContext,
  record: JoinRecord,
  reports: readonly JoinReport[],
): Promise<OutMessage[][]> {
  const size = record.wide?.shardSize ?? WIDE_JOIN_SHARD;
  const { join, header } = record;
  const out: OutMessage[][] = reports.map(() => []);
  const items: (WideReport | undefined)[] = [];
  const byShard = new Map<number, number[]>();
  for (const [i, report] of reports.entries()) {
    const input = report.wide;
    if ("cancel" in input) {
      out[i] = await close(rt, record, "cancelled", report.mid);
      continue;
    }
    const { index } = input.item;
    if (index < 0 || index >= join.total) continue;
    items[i] = { ...input.item, mid: report.mid, rederive: report.rederive };
    const shard = Math.floor(index / size);
    byShard.set(shard, [...(byShard.get(shard) ?? []), i]);
  }
  const expires = rt.runningExpiry(header);
  await Promise.all(
    [...byShard.entries()].map(async ([shard, positions]) => {
      const reports = positions.flatMap((i) => items[i] ?? []);
      const add: ShardTally = {
        ok: reports
          .filter((r) => r.status === "succeeded")
          .map((r) => ({ index: r.index, step: r.step })),
        bad: reports
          .filter((r) => r.status !== "succeeded")
          .map((r) => ({ index: r.index, step: r.step })),
      };
      const { before, after } = await rt.store.tallyShard(header, join.id, shard, add, expires);
      const counted = endedIndexes(before);
      const ended = endedIndexes(after);
      const relevant = reports.filter((r) => r.rederive || !counted.has(r.index));
      // A full shard is noted again by any report to it (a set: idempotent), so a copy
      // of a lost report still closes the join; only what changed or is redelivered refills.
      const full = ended.size >= shardSizeOf(join, size, shard);
      if (relevant.length === 0 && !full) return;
      const failedHere = new Set(after.bad.map((b) => b.index)).size;
      const failing = relevant.some((r) => r.status !== "succeeded");
      let tally: JoinTally | undefined;
      if (full || (failing && failedHere > 0)) {
        tally = await rt.store.tallyJoin(
          header,
          join.id,
          {
            ...(full ? { done: shard } : {}),
            ...(failedHere > 0 ? { failures: { shard, count: failedHere } } : {}),
          },
          expires,
        );
      }
      const first = positions[0] as number;
      if (tally && tally.failures > join.toleratedFailures) {
        const culprit = reports.find((r) => r.status !== "succeeded");
        out[first]?.push(...(await close(rt, record, "failed", culprit?.mid ?? "", culprit)));
        return;
      }
      if (tally && tally.shardsDone >= shardCount(join, size)) {
        out[first]?.push(...(await close(rt, record, "succeeded", reports[0]?.mid ?? "")));
        return;
      }
      // Refill: each item that ended starts the one `max_concurrency` after it, while
      // the join is open (as this process saw it at most `JOIN_STATUS_MAX_AGE_MS` ago).
      const c = join.maxConcurrency;
      if (c <= 0 || relevant.length === 0) return;
      if (!(await stillOpen(rt, header, join.id))) return;
      const next = relevant.map((r) => r.index + c).filter((j) => j < join.total);
      if (next.length === 0) return;
      const values = await rt.codec.load(record.inputs);
      out[first]?.push(...(await branchStartMessages(rt, header, join, values, next)));
    }),
  );
  return out;
}

/** How old a wide join's status may be when it decides a refill. */
export const JOIN_STATUS_MAX_AGE_MS = 200;
/** Joins whose status this process knows: bounded, oldest first out. */
const MAX_KNOWN_STATUSES = 1024;
const statuses = new WeakMap<RuntimeContext, Map<string, { open: boolean; at: number }>>();

/** Whether a wide join is open: read again once the known status is older than 200 ms. */
export async function stillOpen(
  rt: RuntimeContext,
  header: ExecutionHeader,
  joinId: string,
): Promise<boolean> {
  let known = statuses.get(rt);
  if (!known) {
    known = new Map();
    statuses.set(rt, known);
  }
  const key = `${header.tenant}\u0000${header.executionId}\u0000${joinId}`;
  const seen = known.get(key);
  const now = rt.now();
  if (seen && (!seen.open || now - seen.at <= JOIN_STATUS_MAX_AGE_MS)) return seen.open;
  const record = await rt.store.getJoin(header, joinId);
  const open = record?.join.status === "open";
  known.delete(key);
  known.set(key, { open, at: now });
  if (known.size > MAX_KNOWN_STATUSES) {
    const oldest = known.keys().next().value;
    if (oldest !== undefined) known.delete(oldest);
  }
  return open;
}

function endedIndexes(tally: ShardTally): Set<number> {
  return new Set([...tally.ok.map((e) => e.index), ...tally.bad.map((e) => e.index)]);
}

/**
 * Closes the join (unless it is closed already) and derives what its close causes from
 * the record as stored, so a report that finds it closed re-sends the same messages.
 */
async function close(
  rt: RuntimeContext,
  record: JoinRecord,
  status: "succeeded" | "failed" | "cancelled",
  mid: string,
  culprit?: WideReport,
): Promise<OutMessage[]> {
  const { header } = record;
  for (let attempt = 0; ; attempt++) {
    const current = await rt.store.getJoin(header, record.join.id);
    if (!current) throw new RuntimeError("MISSING_RECORD", `join ${record.join.id} is gone`);
    if (current.join.status !== "open") return closingMessages(current);
    const error =
      status === "failed"
        ? branchFailedError(current.join, culprit?.index ?? -1, culprit?.error)
        : undefined;
    const next: JoinRecord = {
      ...current,
      join: { ...current.join, status, ...(error ? { error } : {}) },
      version: current.version + 1,
      causedBy: mid,
      closedBy: mid,
    };
    if (await rt.store.putJoin(next, current.version, rt.expiry(true)))
      return closingMessages(next);
    if (attempt > 20)
      throw new RuntimeError("CONFLICT", `join ${record.join.id} kept changing while it closed`);
  }
}

/** What a closed wide join causes: its fan-in, or its failure and its cancel. */
export function closingMessages(record: JoinRecord): OutMessage[] {
  const { header, join } = record;
  const out: OutMessage[] = [];
  if (join.status === "succeeded") out.push(collectPageMessage(header, join.id, 0));
  if (join.status === "failed" && join.error) {
    out.push({
      mid: MESSAGE_IDS.joinDone(join.id),
      queue: TRANSITIONS,
      body: {
        kind: "join-complete",
        header,
        joinId: join.id,
        parent: { thread: join.parentThread, step: join.parentStep },
        outcome: { status: "failed", error: join.error },
        ...(record.parent ? { parentSnapshot: record.parent } : {}),
      },
    });
  }
  if (join.status === "failed" || join.status === "cancelled")
    out.push(cancelPageMessage(header, join.id, 0));
  return out;
}

export function collectPageMessage(
  header: ExecutionHeader,
  joinId: string,
  page: number,
  written?: { succeeded: number; failed: number },
): OutMessage {
  return {
    mid: `${joinId}!g${page}`,
    queue: TRANSITIONS,
    body: { kind: "collect-join", header, joinId, page, ...(written ? { written } : {}) },
  };
}

function cancelPageMessage(header: ExecutionHeader, joinId: string, shard: number): OutMessage {
  return {
    mid: `${joinId}!xs${shard}`,
    queue: TRANSITIONS,
    body: { kind: "cancel-join", header, joinId, shard },
  };
}

/** A page of a closed wide join's cancel: its items that started and have not ended. */
export async function cancelWidePage(
  rt: RuntimeContext,
  work: Work,
  record: JoinRecord,
  from: number,
): Promise<void> {
  const { header, join } = record;
  if (join.status === "open") return;
  const size = record.wide?.shardSize ?? WIDE_JOIN_SHARD;
  const shards = shardCount(join, size);
  const to = Math.min(shards, from + SHARDS_PER_PAGE);
  const c = join.maxConcurrency;
  const firstItem = from * size;
  const causeFrom = c > 0 ? Math.max(0, Math.floor((firstItem - c) / size)) : from;
  const allStarted = c <= 0 || from - causeFrom > MAX_CAUSE_SHARDS;
  const wanted: number[] = [];
  for (let s = allStarted ? from : causeFrom; s < to; s++) wanted.push(s);
  const tallies = await rt.store.readShards(header, join.id, wanted);
  const ended = new Set<number>();
  for (const tally of tallies.values()) for (const i of endedIndexes(tally)) ended.add(i);
  const messages: OutMessage[] = [];
  for (let i = firstItem; i < Math.min(join.total, to * size); i++) {
    if (ended.has(i)) continue;
    const started = allStarted || i < c || ended.has(i - c);
    if (!started) continue;
    messages.push({
      mid: MESSAGE_IDS.cancelBranch(join.id, i),
      queue: TRANSITIONS,
      body: {
        kind: "event",
        header,
        thread: branchThreadId(join.id, i),
        event: { type: "CancelRequested", reason: "the join no longer needs this branch" },
      },
    });
  }
  if (to < shards) messages.push(cancelPageMessage(header, join.id, to));
  work.dispatch(messages);
}

/**
 * What an idle execution's open wide join is missing (the reconciler's repair): the
 * items whose cause ended but that never started (the refill was counted, then lost
 * with its process), the reports of items that ended but were never counted, and — when
 * every item ended — one report per shard again, so a tally that missed a shard is
 * completed and the join closes. Reads every shard: only for a join that is stuck.
 * @param branches the join's item threads that have a step, by index.
 */
export async function repairWideJoin(
  rt: RuntimeContext,
  record: JoinRecord,
  branches: ReadonlyMap<number, ThreadRecord>,
): Promise<{ key: string; messages: OutMessage[] }> {
  const { header, join } = record;
  const size = record.wide?.shardSize ?? WIDE_JOIN_SHARD;
  const all = Array.from({ length: shardCount(join, size) }, (_, i) => i);
  const ended = new Set<number>();
  for (let from = 0; from < all.length; from += MAX_CAUSE_SHARDS)
    for (const tally of (
      await rt.store.readShards(header, join.id, all.slice(from, from + MAX_CAUSE_SHARDS))
    ).values())
      for (const i of endedIndexes(tally)) ended.add(i);
  const c = join.maxConcurrency;
  const unstarted: number[] = [];
  for (let j = 0; j < join.total; j++) {
    if (ended.has(j) || branches.has(j)) continue;
    if (c <= 0 || j < c || ended.has(j - c)) unstarted.push(j);
  }
  const messages: OutMessage[] = [];
  const again = new Set<number>();
  for (const [index, branch] of branches) {
    if (branch.thread.status === "running") continue;
    const shard = Math.floor(index / size);
    if (!ended.has(index) || (ended.size === join.total && !again.has(shard))) {
      again.add(shard);
      messages.push(...outboxOf(branch).filter((m) => m.body.kind === "finished"));
    }
  }
  if (unstarted.length > 0) {
    const values = await rt.codec.load(record.inputs);
    messages.push(
      ...(await branchStartMessages(rt, header, join, values, unstarted, { resent: true })),
    );
  }
  return { key: `${join.id}@${record.version}/${ended.size}`, messages };
}
