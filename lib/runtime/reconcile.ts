/**
 * The reconciler (DESIGN.md invariant 10): finds executions whose committed work was
 * never sent — a process that died between a commit and its sends, an HTTP call that
 * stopped halfway — and sends it. Every receiver is idempotent, so re-sending is always
 * safe; it only waits long enough not to duplicate work that is merely slow. A
 * scheduled function on AWS, a periodic task in `cascade dev`.
 */
import { ROOT_THREAD } from "../core/engine/index.ts";
import type { ThreadRecord } from "../core/ports.ts";
import { applyEvent, resend } from "./commit.ts";
import { type RuntimeContext, runningKey } from "./context.ts";
import { joinMessages } from "./joins.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { fitMessages, resentOutbox, summaryOf } from "./outbox.ts";
import { resendLazyStart } from "./recovery.ts";
import type { Work } from "./unit-of-work.ts";
import { repairWideJoin } from "./wide-joins.ts";

export interface ReconcileOptions {
  /** The tenants to look at (`tenants.names` of cascade.yaml). Default: `default`. */
  readonly tenants?: readonly string[];
  /** A thread idle this long (ms since its last step) has its outbox sent again. Default 5 minutes. */
  readonly idleMs?: number;
  /**
   * A thread waiting for an activity is left alone this long, since the activity may
   * still run (a worker's function may take 15 minutes). Default 30 minutes.
   */
  readonly activityGraceMs?: number;
  /** Executions looked at per call, per tenant. Default 1,000. */
  readonly limit?: number;
}

export interface ReconcileReport {
  /** Running executions looked at. */
  readonly examined: number;
  /** Executions something was done for, with what. */
  readonly repaired: readonly { readonly executionId: string; readonly what: string }[];
  /** Executions whose repair threw: the others were still repaired; the next run tries again. */
  readonly failed: readonly { readonly executionId: string; readonly error: string }[];
}

export const DEFAULT_IDLE_MS = 5 * 60_000;
export const DEFAULT_ACTIVITY_GRACE_MS = 30 * 60_000;

export async function reconcile(
  rt: RuntimeContext,
  work: Work,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const graceMs = Math.max(idleMs, options.activityGraceMs ?? DEFAULT_ACTIVITY_GRACE_MS);
  const limit = options.limit ?? 1_000;
  const now = rt.now();
  const repaired: { executionId: string; what: string }[] = [];
  const failed: { executionId: string; error: string }[] = [];
  let examined = 0;
  for (const tenant of options.tenants ?? ["default"]) {
    let cursor: string | undefined;
    let seen = 0;
    do {
      const page = await rt.store.listExecutions(
        { tenant, app: rt.options.app, status: "running" },
        Math.min(100, limit - seen),
        cursor,
      );
      cursor = page.cursor;
      for (const summary of page.items) {
        seen++;
        examined++;
        const executionId = summary.header.executionId;
        try {
          const what = await repair(rt, work, summary, now, idleMs, graceMs);
          if (what) repaired.push({ executionId, what });
        } catch (error) {
          // One execution that keeps failing must not keep the others from their repair.
          failed.push({
            executionId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    } while (cursor !== undefined && seen < limit);
  }
  return { examined, repaired, failed };
}

/** What the reconciler does for one execution listed as running; undefined: nothing. */
async function repair(
  rt: RuntimeContext,
  work: Work,
  summary: ThreadRecord,
  now: number,
  idleMs: number,
  graceMs: number,
): Promise<string | undefined> {
  const { header } = summary;
  const { store } = rt;
  if (now - summary.committedAt < idleMs) return undefined;
  const root = await store.stateAt(header, ROOT_THREAD, 1);
  if (!root && summary.version === 0) {
    // A lazy start: its first run commits the root's first step, and its activity may
    // still be running.
    const key = runningKey(header, "root#0");
    if (now - summary.committedAt < graceMs || rt.reconciled.has(key)) return undefined;
    await resendLazyStart(rt, work, summary);
    rt.remember(key);
    return "re-sent the outbox of a start that committed no step (its first run)";
  }
  if (!root) {
    // The start stopped between its summary and its first step.
    await store.putThread(summary, 0, rt.stepExpiry(header, summary.thread.status !== "running"));
    await resend(rt, work, [summary]);
    return "wrote the first step of a start that stopped";
  }
  const latest = (await store.getThread(header, ROOT_THREAD)) ?? root;
  if (latest.thread.status !== "running") {
    await store.putSummary(summaryOf(latest), rt.expiry(true));
    await resend(rt, work, [latest]);
    return "recorded the end";
  }
  const cancel = await store.cancelRequested(header);
  if (cancel !== undefined) {
    await applyEvent(
      rt,
      work,
      header,
      ROOT_THREAD,
      { type: "CancelRequested", reason: cancel },
      MESSAGE_IDS.cancel(header.executionId),
    );
    return "applied a cancel request";
  }
  const all = [latest, ...(await store.branchThreads(header))];
  const threads = all.filter((r) => r.thread.status === "running" && now - r.committedAt >= idleMs);
  // Something of the execution committed within the activity grace: its branches, or
  // the activity a join's continuation runs (continuation.ts), may still be running.
  const recent = all.some((r) => now - r.committedAt < graceMs);
  let resent = 0;
  for (const record of threads) {
    const waiting = record.thread.waiting;
    if (waiting?.kind === "activity" && now - record.committedAt < graceMs) continue;
    // A thread waiting for a join that exists: its outbox would start every branch
    // again, or (the join closed) continue it beside the continuation's own run. Only
    // once nothing has committed for the grace; a join never written is re-sent now.
    if (waiting?.kind === "join" && recent && (await store.getJoin(header, waiting.joinId)))
      continue;
    // Once per step and process: a thread that stays idle (it waits for an event) is
    // not sent its outbox again every round.
    const key = runningKey(header, `${record.thread.id}#${record.version}`);
    if (rt.reconciled.has(key)) continue;
    // A timer or retry still due later is on its way: sending it again would double it.
    const messages = resentOutbox(record).filter(
      (m) => m.notBefore === undefined || m.notBefore <= now,
    );
    if (messages.length === 0) continue;
    await fitMessages(rt, header, messages);
    work.dispatch(messages);
    rt.remember(key);
    resent++;
  }
  const joins = await repairJoins(rt, work, header, all, now, graceMs);
  const done = [
    resent > 0 ? `re-sent the outbox of ${resent} idle thread(s)` : "",
    joins > 0 ? `re-sent ${joins} message(s) of open joins` : "",
  ].filter((s) => s !== "");
  return done.length > 0 ? done.join("; ") : undefined;
}

/**
 * The joins an idle execution waits on: a report whose join counted it but whose
 * branch starts were never sent (the report's process died after the join's write,
 * and its message is gone — dead-lettered and handled, or applied inline), and a
 * branch that ended but whose report never reached its join. Only once nothing of the
 * execution has committed for the activity grace: a lazy branch running its first
 * activity has no step yet to tell it apart from one never started.
 * @returns the messages sent.
 */
async function repairJoins(
  rt: RuntimeContext,
  work: Work,
  header: ThreadRecord["header"],
  records: readonly ThreadRecord[],
  now: number,
  graceMs: number,
): Promise<number> {
  if (records.some((r) => now - r.committedAt < graceMs)) return 0;
  let sent = 0;
  for (const waiter of records) {
    const waiting = waiter.thread.waiting;
    if (waiter.thread.status !== "running" || waiting?.kind !== "join") continue;
    const record = await rt.store.getJoin(header, waiting.joinId);
    if (record?.join.status !== "open") continue;
    const branches = new Map<number, ThreadRecord>();
    for (const r of records)
      if (r.thread.parent?.joinId === record.join.id) branches.set(r.thread.parent.index, r);
    if (record.wide) {
      const repair = await repairWideJoin(rt, record, branches);
      const wideKey = runningKey(header, repair.key);
      if (rt.reconciled.has(wideKey) || repair.messages.length === 0) continue;
      await fitMessages(rt, header, repair.messages);
      work.dispatch(repair.messages);
      rt.remember(wideKey);
      sent += repair.messages.length;
      continue;
    }
    const key = runningKey(header, `${record.join.id}@${record.version}`);
    if (rt.reconciled.has(key)) continue;
    const ended = new Set([...record.join.succeeded, ...record.join.failed]);
    const unstarted = [
      ...new Set(record.starts.flatMap((s) => s.indexes).filter((i) => !ended.has(i))),
    ].filter((i) => !branches.has(i));
    const unreported = [...branches.values()].filter(
      (r) => r.thread.status !== "running" && !ended.has(r.thread.parent?.index ?? -1),
    );
    const messages = unreported.flatMap((r) => resentOutbox(r));
    if (unstarted.length > 0)
      messages.push(
        ...(await joinMessages(
          rt,
          record,
          [{ type: "StartBranches", joinId: record.join.id, indexes: unstarted }],
          { resent: true },
        )),
      );
    if (messages.length === 0) continue;
    await fitMessages(rt, header, messages);
    work.dispatch(messages);
    rt.remember(key);
    sent += messages.length;
  }
  return sent;
}
