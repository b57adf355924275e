/**
 * Joins: starting a Parallel's branches or a Map's items, their reports, and the
 * parent's continuation. A join is one item written conditionally on its version. It
 * keeps no outbox: for each report it records the branches that report started (until
 * they finish) and which report closed it, so a redelivered report re-derives what it
 * caused. Join-caused messages are named after the join (`<join>!b<i>`, `<join>!done`),
 * so re-derived copies dedupe wherever they come from.
 */
import {
  applyBranchFinished,
  type BranchResult,
  branchThreadId,
  type Command,
  cancelJoin,
  closingCommands,
  type JoinOutcome,
  type JoinState,
  type JoinStep,
  runningBranches,
  type ThreadEvent,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import {
  ENDED_STEP_UNKNOWN,
  type ExecutionHeader,
  type JoinRecord,
  type OutMessage,
  type WireMessage,
} from "../core/ports.ts";
import { BRANCH_PAGE } from "./budget.ts";
import { applyEvent, CONFLICT, untilCommitted } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { continueWithRun } from "./continuation.ts";
import { RuntimeError } from "./errors.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { branchPageMessage, branchStartMessages, cancelBranchMessages } from "./outbox.ts";
import {
  type Batch,
  type JoinReport,
  TRANSITIONS,
  type WideInputOf,
  Work,
} from "./unit-of-work.ts";
import { applyWideReports, cancelWidePage, closingMessages } from "./wide-joins.ts";

/** A branch's report to its join. */
export async function finished(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "finished" }>,
): Promise<void> {
  const output = body.output === undefined ? undefined : { index: body.index, value: body.output };
  const item = {
    index: body.index,
    status: body.status,
    step: body.step ?? ENDED_STEP_UNKNOWN,
    ...(body.error === undefined ? {} : { error: body.error }),
  };
  await updateJoin(
    rt,
    work,
    body.header,
    body.joinId,
    mid,
    output,
    body.eager === true,
    (join) =>
      applyBranchFinished(join, {
        joinId: body.joinId,
        index: body.index,
        status: body.status,
        ...(body.error === undefined ? {} : { error: body.error }),
      }),
    { item },
  );
}

/** Cancels what still runs under a join. */
export async function cancelJoinBranches(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  header: ExecutionHeader,
  joinId: string,
  after?: number,
  shard?: number,
): Promise<void> {
  // A join that was never written (its fan-out stopped between its commit and the join)
  // started no branch, and none will start once its thread has ended: nothing to cancel.
  const record = await rt.store.getJoin(header, joinId);
  if (!record) return;
  if (shard !== undefined) return cancelWidePage(rt, work, record, shard);
  if (after !== undefined) {
    // A page of a closed join's cancel: the branches still running past `after`.
    if (record.join.status === "open") return;
    const running = runningBranches(record.join).filter((i) => i > after);
    work.dispatch(
      cancelBranchMessages(header, joinId, running, "the join no longer needs this branch"),
    );
    return;
  }
  await updateJoin(rt, work, header, joinId, mid, undefined, true, cancelJoin, { cancel: true });
}

async function updateJoin(
  rt: RuntimeContext,
  work: Work,
  header: ExecutionHeader,
  joinId: string,
  mid: string,
  output: { index: number; value: JsonValue } | undefined,
  eager: boolean,
  apply: (join: JoinState) => JoinStep,
  wide: WideInputOf,
): Promise<void> {
  const report: JoinReport = {
    mid,
    cause: work.cause,
    source: work.source,
    rederive: work.mayResend,
    output,
    apply,
    wide,
  };
  const joins = work.batch.joins;
  if (joins && !eager) {
    // In a batch: applied with the batch's other reports to this join, in one write.
    const key = `${header.tenant}/${header.executionId}/${joinId}`;
    const entry = joins.get(key);
    if (entry) entry.reports.push(report);
    else joins.set(key, { header, joinId, reports: [report] });
    return;
  }
  const caused = await applyJoinReports(rt, header, joinId, [report]);
  for (const { messages } of caused) work.dispatch(messages);
}

/**
 * Applies a batch's reports to their joins (one conditional write per join) and works
 * off what they cause, each report's follow-ups charged to the message that caused it.
 * Completing a join continues its parent, which may report to an outer join: rounds.
 * @returns the received messages (`messageKey`s) whose work failed, with the error.
 */
export async function finishJoins(
  rt: RuntimeContext,
  batch: Batch,
  drain: (work: Work) => Promise<void>,
): Promise<{ source: string; error: unknown }[]> {
  const failed: { source: string; error: unknown }[] = [];
  const joins = batch.joins;
  while (joins && joins.size > 0) {
    const pending = [...joins.values()];
    joins.clear();
    await Promise.all(
      pending.map(async ({ header, joinId, reports }) => {
        let caused: { report: JoinReport; messages: OutMessage[] }[];
        try {
          batch.checkAlive();
          caused = await applyJoinReports(rt, header, joinId, reports);
        } catch (error) {
          for (const report of reports) failed.push({ source: report.source, error });
          return;
        }
        for (const { report, messages } of caused) {
          const work = new Work(batch, report.cause, report.source, rt.options.inline ?? true, () =>
            rt.now(),
          );
          work.dispatch(messages);
          try {
            await drain(work);
          } catch (error) {
            failed.push({ source: report.source, error });
          }
        }
      }),
    );
  }
  return failed;
}

/** Applies reports to a join in order and commits them with one conditional write. */
async function applyJoinReports(
  rt: RuntimeContext,
  header: ExecutionHeader,
  joinId: string,
  reports: readonly JoinReport[],
): Promise<{ report: JoinReport; messages: OutMessage[] }[]> {
  const { store } = rt;
  return untilCommitted(rt, `join ${joinId} of ${header.executionId}`, async () => {
    const record = await store.getJoin(header, joinId);
    if (!record) {
      throw new RuntimeError(
        "MISSING_RECORD",
        `join ${joinId} of ${header.executionId} does not exist (yet)`,
      );
    }
    if (record.wide) {
      const messages = await applyWideReports(rt, record, reports);
      return { value: reports.map((report, i) => ({ report, messages: messages[i] ?? [] })) };
    }
    let join = record.join;
    let starts = [...record.starts];
    let closedBy = record.closedBy;
    let outputs = record.outputs;
    let causedBy = record.causedBy;
    const caused: {
      report: JoinReport;
      commands: readonly Command[];
      how: JoinMessagesHow;
    }[] = [];
    let changed = false;
    for (const report of reports) {
      const step = report.apply(join);
      if (!step.changed) {
        // A redelivery: re-derive what this very report caused (not for a first delivery
        // of a duplicate: the copy that was counted sends what it caused).
        if (!report.rederive) continue;
        const commands: Command[] = [];
        const mine = starts.filter((s) => s.mid === report.mid).flatMap((s) => s.indexes);
        if (mine.length > 0 && join.status === "open")
          commands.push({ type: "StartBranches", joinId, indexes: mine });
        if (closedBy === report.mid) commands.push(...closingCommands(join));
        if (commands.length > 0) caused.push({ report, commands, how: { resent: true } });
        continue;
      }
      changed = true;
      const ended = new Set([...step.join.succeeded, ...step.join.failed]);
      starts = starts.filter((s) => s.indexes.some((i) => !ended.has(i)));
      for (const command of step.commands) {
        if (command.type === "StartBranches")
          starts.push({ mid: report.mid, indexes: command.indexes });
      }
      if (join.status === "open" && step.join.status !== "open") closedBy = report.mid;
      if (report.output)
        outputs = { ...outputs, [String(report.output.index)]: report.output.value };
      causedBy = report.mid;
      join = step.join;
      caused.push({ report, commands: step.commands, how: { fresh: true } });
    }
    const next: JoinRecord = {
      ...record,
      join,
      version: record.version + 1,
      causedBy,
      starts,
      ...(closedBy === undefined ? {} : { closedBy }),
      ...(outputs === undefined ? {} : { outputs }),
    };
    const expires = join.status === "open" ? rt.runningExpiry(header) : rt.expiry(true);
    if (changed && !(await store.putJoin(next, record.version, expires))) return CONFLICT;
    const target = changed ? next : record;
    const out: { report: JoinReport; messages: OutMessage[] }[] = [];
    for (const { report, commands, how } of caused)
      out.push({ report, messages: await joinMessages(rt, target, commands, how) });
    return { value: out };
  });
}

/** How a join's commands became messages: see `joinMessages`. */
interface JoinMessagesHow {
  readonly fresh?: true;
  readonly resent?: boolean | undefined;
}

/**
 * The messages of a join's commands; their ids name the join, so every copy dedupes.
 * @param how `fresh` for the commands of the write that closed the join (see the
 *   `join-complete` message's `fresh`); `resent` for commands derived again, whose
 *   branches may have run already (they read their thread before their first run).
 */
export async function joinMessages(
  rt: RuntimeContext,
  record: JoinRecord,
  commands: readonly Command[],
  how: JoinMessagesHow = {},
): Promise<OutMessage[]> {
  const { fresh, resent } = how;
  const out: OutMessage[] = [];
  const header = record.header;
  for (const command of commands) {
    if (command.type === "StartBranches") {
      const inputs = await rt.codec.load(record.inputs);
      out.push(
        ...(await branchStartMessages(rt, header, record.join, inputs, command.indexes, {
          resent,
        })),
      );
    } else if (command.type === "CancelBranches") {
      out.push(
        ...cancelBranchMessages(
          header,
          command.joinId,
          command.indexes,
          "the join no longer needs this branch",
        ),
      );
    } else if (command.type === "CompleteJoin") {
      out.push({
        mid: MESSAGE_IDS.joinDone(command.joinId),
        queue: TRANSITIONS,
        body: {
          kind: "join-complete",
          header,
          joinId: command.joinId,
          parent: command.parent,
          outcome: withOutputs(command.outcome, record.outputs),
          ...(record.parent ? { parentSnapshot: record.parent } : {}),
          ...(fresh ? { fresh } : {}),
        },
      });
    }
  }
  return out;
}

/**
 * Re-sent from a thread's stored outbox: the branches a fan-out started, rebuilt from
 * the join — which it creates first if the fan-out's invocation stopped before.
 */
export async function startBranches(
  rt: RuntimeContext,
  work: Work,
  body: Extract<WireMessage, { kind: "start-branches" }>,
): Promise<void> {
  let join = await rt.store.getJoin(body.header, body.joinId);
  if (!join && body.create) {
    const created: JoinRecord = {
      header: body.header,
      join: body.create.join,
      inputs: body.create.inputs,
      version: 1,
      causedBy: "start-branches",
      starts: [],
      ...(body.create.wide ? { wide: body.create.wide } : {}),
    };
    await rt.store.putJoin(created, 0);
    join = await rt.store.getJoin(body.header, body.joinId);
  }
  if (!join)
    throw new RuntimeError(
      "MISSING_RECORD",
      `join ${body.joinId} of ${body.header.executionId} does not exist`,
    );
  // A join that closed meanwhile starts nothing more: what it caused is derived again
  // instead (the parent's continuation, which dedupes on its id).
  if (join.join.status !== "open") {
    work.dispatch(
      join.wide ? closingMessages(join) : await joinMessages(rt, join, closingCommands(join.join)),
    );
    return;
  }
  const indexes = [...body.indexes];
  const range = body.range;
  if (range) {
    const end = Math.min(range.to, range.from + BRANCH_PAGE);
    for (let i = range.from; i < end; i++) indexes.push(i);
    // The next page goes out once this one is sent: a join that closes meanwhile stops
    // the pages still to come.
    if (end < range.to)
      work.dispatch([
        branchPageMessage(
          body.header,
          body.joinId,
          { from: end, to: range.to },
          { resent: body.resent },
        ),
      ]);
  }
  work.dispatch(
    await joinMessages(rt, join, [{ type: "StartBranches", joinId: body.joinId, indexes }], {
      resent: body.resent,
    }),
  );
}

/** Continues the thread that waits for a join, with its branches' outputs. */
export async function joinComplete(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "join-complete" }>,
  arrival: { readonly receiveCount: number },
): Promise<void> {
  let event: ThreadEvent;
  if (body.outcome.status === "succeeded") {
    const missing = body.outcome.branches.some(
      (b) => b.status === "succeeded" && b.output === undefined,
    );
    const threads = missing ? await rt.store.joinThreads(body.header, body.joinId) : [];
    const byId = new Map(threads.map((t) => [t.thread.id, t]));
    const branches: BranchResult[] = [];
    for (const branch of body.outcome.branches) {
      const record = byId.get(branchThreadId(body.joinId, branch.index));
      if (branch.status === "succeeded" && branch.output === undefined && record) {
        branches.push({ ...branch, output: await rt.codec.load(record.thread.data) });
      } else {
        branches.push(branch);
      }
    }
    event = {
      type: "JoinCompleted",
      token: body.parent,
      outcome: { status: "succeeded", branches },
    };
  } else {
    event = { type: "JoinCompleted", token: body.parent, outcome: body.outcome };
  }
  // Just closed: when the parent goes on to run an activity, that run carries the step.
  const snapshot = body.parentSnapshot;
  if (
    body.fresh &&
    arrival.receiveCount === 1 &&
    snapshot &&
    (await continueWithRun(rt, work, body.header, body.parent.thread, event, mid, snapshot))
  )
    return;
  await applyEvent(rt, work, body.header, body.parent.thread, event, mid, snapshot);
}

/** A join's outcome with the outputs it holds. */
function withOutputs(outcome: JoinOutcome, outputs: JoinRecord["outputs"]): JoinOutcome {
  if (outcome.status !== "succeeded" || !outputs) return outcome;
  return {
    status: "succeeded",
    branches: outcome.branches.map((b) => {
      const output = outputs[String(b.index)];
      return b.status === "succeeded" && output !== undefined ? { ...b, output } : b;
    }),
  };
}
