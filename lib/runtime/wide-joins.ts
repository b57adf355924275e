/**
 * Wide joins (DESIGN.md section 9): a Map of `WIDE_JOIN_FROM` items or more keeps no
 * per-item data in its join record. Each item's end is added to a shard of
 * `WIDE_JOIN_SHARD` items (a set, so a report counted twice changes nothing); the
 * report that fills a shard notes it in the join's tally, with each shard's failures;
 * the report that finds every shard done, or the failures past the tolerance, closes
 * the join. Every report costs O(1) writes of O(shard) bytes, whatever the width.
 *
 * With `max_concurrency: C` item i's end starts item i + C (the fan-out started items
 * 0..C-1), so in flight stay at most C and each start has one cause whose id it
 * carries. Fan-in and cancel go a page of shards per message: the fan-in reads the
 * items' last steps by key (each shard keeps which step ended each item) and keeps
 * each page's outputs in the payload store until the last page continues the parent.
 */
import { createHash } from "node:crypto";
import {
  type BranchResult,
  branchThreadId,
  ERRORS,
  type JoinState,
  type ResultLocation,
  type WorkflowError,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import {
  ENDED_STEP_UNKNOWN,
  type ExecutionHeader,
  type JoinRecord,
  type JoinTally,
  type OutMessage,
  type ShardTally,
  type ThreadRecord,
  type WireMessage,
} from "../core/ports.ts";
import { payloadPrefix } from "./codec.ts";
import { applyEvent } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { RuntimeError } from "./errors.ts";
import {
  type ItemResult,
  ResultWriterError,
  writeResultManifest,
  writeResultPart,
} from "./items/writer.ts";
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

const shardCount = (join: JoinState, size: number) => Math.ceil(join.total / size);
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
        ? {
            name: ERRORS.BRANCH_FAILED,
            message: `item ${culprit?.index ?? "?"} of '${current.join.state}' failed with ${culprit?.error?.name ?? ERRORS.CANCELLED}: ${culprit?.error?.message ?? "the item was cancelled"}`,
          }
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

function collectPageMessage(header: ExecutionHeader, joinId: string, page: number): OutMessage {
  return {
    mid: `${joinId}!g${page}`,
    queue: TRANSITIONS,
    body: { kind: "collect-join", header, joinId, page },
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
    messages.push(...(await branchStartMessages(rt, header, join, values, unstarted)));
  }
  return { key: `${join.id}@${record.version}/${ended.size}`, messages };
}

/** The payload key of a page of a wide join's outputs. */
function partKey(header: ExecutionHeader, joinId: string, page: number): string {
  const digest = createHash("sha256").update(joinId).digest("hex").slice(0, 32);
  return `${payloadPrefix(header)}joins/${digest}/part-${page}.json`;
}

/**
 * A page of a succeeded wide join's fan-in: reads its items' last steps by key, keeps
 * their results, and on the last page continues the parent with every item's result.
 */
export async function collectWidePage(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "collect-join" }>,
): Promise<void> {
  const { header, joinId, page } = body;
  const record = await rt.store.getJoin(header, joinId);
  if (!record) throw new RuntimeError("MISSING_RECORD", `join ${joinId} does not exist`);
  if (record.join.status !== "succeeded") return;
  const { join } = record;
  const size = record.wide?.shardSize ?? WIDE_JOIN_SHARD;
  const shards = shardCount(join, size);
  const from = page * SHARDS_PER_PAGE;
  const to = Math.min(shards, from + SHARDS_PER_PAGE);
  const results = await pageResults(rt, record, from, to, size);
  const last = to >= shards;
  const writer = record.wide?.writer;
  if (writer) return writePage(rt, work, mid, body, record, results, last);
  if (!last) {
    await rt.deps.payloads.put(partKey(header, joinId, page), JSON.stringify(results));
    work.dispatch([collectPageMessage(header, joinId, page + 1)]);
    return;
  }
  const branches: BranchResult[] = [];
  for (let p = 0; p < page; p++)
    branches.push(
      ...(JSON.parse(await rt.deps.payloads.get(partKey(header, joinId, p))) as BranchResult[]),
    );
  branches.push(...results);
  await applyEvent(
    rt,
    work,
    header,
    join.parentThread,
    {
      type: "JoinCompleted",
      token: { thread: join.parentThread, step: join.parentStep },
      outcome: { status: "succeeded", branches },
    },
    mid,
    record.parent,
  );
}

/**
 * A page of a fan-in to the Map's `result_writer`: the page's results as one part in the
 * user's bucket (the same part again on a redelivery: the same key and bytes), and on the
 * last page the manifest, which continues the parent as the Map's value.
 */
async function writePage(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "collect-join" }>,
  record: JoinRecord,
  results: readonly BranchResult[],
  last: boolean,
): Promise<void> {
  const { header, join } = record;
  const writer = record.wide?.writer;
  const objects = rt.deps.objects;
  if (!writer) return;
  const parent = { thread: join.parentThread, step: join.parentStep };
  const fail = (message: string) =>
    applyEvent(
      rt,
      work,
      header,
      join.parentThread,
      {
        type: "JoinCompleted",
        token: parent,
        outcome: { status: "failed", error: { name: ERRORS.RESULT_WRITER_FAILED, message } },
      },
      mid,
      record.parent,
    );
  if (!objects) {
    await fail("this runtime has no object store for result_writer");
    return;
  }
  const ended = results.flatMap((r) =>
    r.status === "pending" ? [] : [{ ...r, status: r.status } as ItemResult],
  );
  let succeeded = body.written?.succeeded ?? 0;
  let failed = body.written?.failed ?? 0;
  try {
    if (ended.length > 0) await writeResultPart(objects, writer, body.page, ended);
    for (const r of ended) if (r.status === "succeeded") succeeded++;
    for (const r of ended) if (r.status === "failed") failed++;
    if (!last) {
      work.dispatch([
        {
          ...collectPageMessage(header, join.id, body.page + 1),
          body: {
            kind: "collect-join",
            header,
            joinId: join.id,
            page: body.page + 1,
            written: { succeeded, failed },
          },
        },
      ]);
      return;
    }
    const manifest = await writeResultManifest(objects, writer, {
      parts: body.page + 1,
      total: join.total,
      succeeded,
      failed,
    });
    await applyEvent(
      rt,
      work,
      header,
      join.parentThread,
      {
        type: "JoinCompleted",
        token: parent,
        outcome: { status: "succeeded", branches: [], written: manifest as unknown as JsonValue },
      },
      mid,
      record.parent,
    );
  } catch (error) {
    if (!(error instanceof ResultWriterError)) throw error;
    await fail(error.message);
  }
}

/** The results of the items of shards `from`..`to`, in item order. */
async function pageResults(
  rt: RuntimeContext,
  record: JoinRecord,
  from: number,
  to: number,
  size: number,
): Promise<BranchResult[]> {
  const { header, join } = record;
  const shards = Array.from({ length: to - from }, (_, i) => from + i);
  const tallies = await rt.store.readShards(header, join.id, shards);
  const ended = new Map<number, { step: number; ok: boolean }>();
  for (const tally of tallies.values()) {
    for (const e of tally.bad) ended.set(e.index, { step: e.step, ok: false });
    for (const e of tally.ok) ended.set(e.index, { step: e.step, ok: true });
  }
  const keys: { thread: string; step: number }[] = [];
  const latest: string[] = [];
  for (const [index, { step }] of ended) {
    const thread = branchThreadId(join.id, index);
    if (step >= ENDED_STEP_UNKNOWN || step < 1) latest.push(thread);
    else keys.push({ thread, step });
  }
  const steps: ThreadRecord[] = await rt.store.getSteps(header, keys);
  for (const thread of latest) {
    const record = await rt.store.getThread(header, thread);
    if (record) steps.push(record);
  }
  const byThread = new Map(steps.map((s) => [s.thread.id, s]));
  const out: BranchResult[] = [];
  for (let index = from * size; index < Math.min(join.total, to * size); index++) {
    const end = ended.get(index);
    const step = byThread.get(branchThreadId(join.id, index));
    if (!end || !step) {
      out.push({ index, status: "pending" });
    } else if (end.ok) {
      out.push({ index, status: "succeeded", output: await rt.codec.load(step.thread.data) });
    } else {
      const status = step.thread.status === "cancelled" ? "cancelled" : "failed";
      out.push({ index, status, ...(step.thread.error ? { error: step.thread.error } : {}) });
    }
  }
  return out;
}
