/**
 * The messages that start and cancel a join's branches: one per branch for the first
 * page, and past `BRANCH_PAGE` one message that goes on a page at a time.
 */
import {
  branchSpecFor,
  branchThreadId,
  type JoinState,
  mapItemSpec,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionHeader, OutMessage, WireMessage } from "../core/ports.ts";
import { BRANCH_PAGE } from "./budget.ts";
import type { RuntimeContext } from "./context.ts";
import { isPaged, itemOf } from "./items/fan-out.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { TRANSITIONS } from "./unit-of-work.ts";

/**
 * The message that starts branch `index` of a join.
 * @param resent true when sent again, not by the fan-out: its first run reads its thread.
 */
async function branchMessage(
  rt: RuntimeContext,
  header: ExecutionHeader,
  join: JoinState,
  inputs: JsonValue,
  index: number,
  resent: boolean,
): Promise<WireMessage> {
  const spec = isPaged(inputs)
    ? mapItemSpec(join, index, await itemOf(rt, inputs.pages, index))
    : branchSpecFor(
        join,
        join.kind === "map"
          ? { kind: "items", items: inputs as JsonValue[] }
          : { kind: "shared", value: inputs },
        index,
      );
  return {
    kind: "branch",
    header,
    joinId: join.id,
    index,
    flow: spec.flow,
    input: await rt.codec.store(spec.input, header),
    ...(spec.map ? { mapIndex: spec.map.index } : {}),
    // ANY and AT_LEAST drop the branches they no longer need, and a branch started again
    // may have run already: their first run reads its thread.
    check: join.waitForAll && !resent ? "cancel" : "thread",
    ...resumeOf(join, index),
  };
}

/** How branch `index` of a redrive's fan-out re-runs: from its path's state, or kept. */
function resumeOf(
  join: JoinState,
  index: number,
): Pick<Extract<WireMessage, { kind: "branch" }>, "from" | "reuse"> {
  const resume = join.resume;
  if (!resume) return {};
  if (resume.on?.index === index) return { from: resume.on };
  return { reuse: { of: resume.of, thread: branchThreadId(resume.join, index) } };
}

/**
 * Cancel events for branches of a join, one id per branch whoever sends it: a page of
 * them, and past `BRANCH_PAGE` a message that cancels the branches still running after
 * the page's last (the join is closed by then, so it knows which).
 */
export function cancelBranchMessages(
  header: ExecutionHeader,
  joinId: string,
  indexes: readonly number[],
  reason: string,
): OutMessage[] {
  const page = indexes.slice(0, BRANCH_PAGE);
  const out: OutMessage[] = page.map((index) => ({
    mid: MESSAGE_IDS.cancelBranch(joinId, index),
    queue: TRANSITIONS,
    body: {
      kind: "event",
      header,
      thread: branchThreadId(joinId, index),
      event: { type: "CancelRequested", reason },
    },
  }));
  const last = page[page.length - 1];
  if (indexes.length > BRANCH_PAGE && last !== undefined)
    out.push({
      mid: MESSAGE_IDS.cancelPage(joinId, last),
      queue: TRANSITIONS,
      body: { kind: "cancel-join", header, joinId, after: last },
    });
  return out;
}

/** How branch starts are sent: by the fan-out (with the join to create), or again. */
export interface BranchStartOptions {
  /** The join as the fan-out created it, for a page message to create if it is missing. */
  readonly create?: Extract<WireMessage, { kind: "start-branches" }>["create"];
  /**
   * Sent again (a redelivered report's re-derived starts, a stored outbox, the
   * reconciler): each branch's first run reads its thread, so one that ran is not run again.
   */
  readonly resent?: boolean | undefined;
}

/**
 * The messages that start branches `indexes` of a join: the first page's starts, and
 * past `BRANCH_PAGE` the message that starts the rest a page at a time.
 */
export async function branchStartMessages(
  rt: RuntimeContext,
  header: ExecutionHeader,
  join: JoinState,
  inputs: JsonValue,
  indexes: readonly number[],
  options: BranchStartOptions = {},
): Promise<OutMessage[]> {
  const resent = options.resent ?? false;
  const { page, rest } = pageOf(indexes);
  const out: OutMessage[] = [];
  for (const index of page) {
    out.push({
      mid: MESSAGE_IDS.branch(join.id, index),
      queue: TRANSITIONS,
      body: await branchMessage(rt, header, join, inputs, index, resent),
    });
  }
  if (rest) out.push(branchPageMessage(header, join.id, rest, options));
  return out;
}

/** The first page of branch indexes to start, and the contiguous rest, if any. */
function pageOf(indexes: readonly number[]): {
  page: readonly number[];
  rest?: { from: number; to: number };
} {
  const range = rangeOf(indexes);
  if (!range || indexes.length <= BRANCH_PAGE) return { page: indexes };
  return {
    page: indexes.slice(0, BRANCH_PAGE),
    rest: { from: range.from + BRANCH_PAGE, to: range.to },
  };
}

/** `indexes` as a range when they are contiguous and ascending. */
export function rangeOf(indexes: readonly number[]): { from: number; to: number } | undefined {
  const from = indexes[0];
  if (from === undefined) return undefined;
  for (let i = 1; i < indexes.length; i++) if (indexes[i] !== from + i) return undefined;
  return { from, to: from + indexes.length };
}

/** The message that starts the branches of `range`, a page at a time. */
export function branchPageMessage(
  header: ExecutionHeader,
  joinId: string,
  range: { from: number; to: number },
  options: BranchStartOptions = {},
): OutMessage {
  const { create, resent } = options;
  return {
    mid: MESSAGE_IDS.branchPage(joinId, range.from),
    queue: TRANSITIONS,
    body: {
      kind: "start-branches",
      header,
      joinId,
      indexes: [],
      range,
      ...(create ? { create } : {}),
      ...(resent ? { resent: true } : {}),
    },
  };
}
