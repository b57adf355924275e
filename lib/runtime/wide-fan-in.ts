/**
 * A succeeded wide join's fan-in (see wide-joins.ts), a page of shards per message: each
 * page reads its items' last steps by key (the shards say which step ended each item) and
 * keeps its results in the payload store, or writes them as a part of the Map's
 * `result_writer`; the last page continues the parent with every result in item order,
 * or with the writer's manifest.
 */
import { createHash } from "node:crypto";
import { type BranchResult, branchThreadId, ERRORS } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import {
  ENDED_STEP_UNKNOWN,
  type ExecutionHeader,
  type JoinRecord,
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
import type { Work } from "./unit-of-work.ts";
import { collectPageMessage, SHARDS_PER_PAGE, shardCount, WIDE_JOIN_SHARD } from "./wide-joins.ts";

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
      work.dispatch([collectPageMessage(header, join.id, body.page + 1, { succeeded, failed })]);
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
