/**
 * A branch's or Map item's start: lazily when it begins with a Task (its first run
 * carries its state), and for a redrive from the path's state or as the original kept it.
 */
import {
  type BranchSpec,
  branchThreadId,
  startBranch as engineStartBranch,
} from "../core/engine/index.ts";
import type { Stored, WireMessage } from "../core/ports.ts";
import { commitThread, findCaused, resend } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { prepare } from "./outbox.ts";
import type { Work } from "./unit-of-work.ts";

/** Starts branch `index` of a join: lazily when it begins with a Task (its run carries its state). */
export async function startBranch(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "branch" }>,
): Promise<void> {
  const { header } = body;
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const context = await rt.executionContext(header);
  const input = await rt.codec.load(body.input);
  const spec: BranchSpec = {
    id: branchThreadId(body.joinId, body.index),
    flow: body.flow,
    parent: { joinId: body.joinId, index: body.index },
    input,
    ...(body.mapIndex === undefined ? {} : { map: { index: body.mapIndex, item: input } }),
    ...(await redriven(rt, body)),
  };
  const step = engineStartBranch(definition, context, spec, rt.now());
  // A branch that starts by running an activity needs no step yet: the run message
  // carries its state, and the run's commit is the branch's first step.
  const lazy = await prepare(rt, header, step, 0, mid, body.check ? { check: body.check } : {});
  if (lazy.carries && lazy.live.length > 0 && lazy.live.every((m) => m.body.kind === "run")) {
    work.dispatch(lazy.live);
    return;
  }
  if (await commitThread(rt, work, header, step, { version: 0 }, mid)) return;
  const found = await findCaused(rt, header, spec.id, mid);
  if (found.kind === "chain" && work.mayResend) await resend(rt, work, found.steps);
}

/**
 * A redrive's branch: the one on its path starts at the path's state; another that
 * succeeded in the original ends with the original's output (one read of its latest
 * step); any other starts afresh.
 */
async function redriven(
  rt: RuntimeContext,
  body: Extract<WireMessage, { kind: "branch" }>,
): Promise<Pick<BranchSpec, "from" | "reused">> {
  if (body.from) {
    const { state, data, next } = body.from;
    const loaded = await rt.codec.load(data as unknown as Stored);
    return { from: { state, data: loaded, ...(next ? { resume: next } : {}) } };
  }
  if (!body.reuse) return {};
  const original = { ...body.header, executionId: body.reuse.of };
  const record = await rt.store.getThread(original, body.reuse.thread);
  if (record?.thread.status !== "succeeded") return {};
  const output = await rt.codec.load(record.thread.data);
  return { reused: { state: record.thread.current, output, thread: body.reuse.thread } };
}
