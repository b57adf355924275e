/**
 * Finishing what an earlier call or delivery began: a start that stopped after its
 * summary, a signal whose consuming step was committed but not sent, and the check a
 * long timer makes at each hop (is its thread still waiting for it?).
 */
import { ROOT_THREAD } from "../core/engine/index.ts";
import type { ExecutionHeader, OutMessage, ThreadRecord } from "../core/ports.ts";
import { findCaused, RECENT_STEPS, resend } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { fitMessages, resentOutbox } from "./outbox.ts";
import type { Work } from "./unit-of-work.ts";

/**
 * Finishes a start that a first call began: writes the first step if it stopped
 * before, and re-sends what the start committed.
 */
export async function finishStart(
  rt: RuntimeContext,
  work: Work,
  summary: ThreadRecord,
): Promise<void> {
  const { header } = summary;
  const first = await rt.store.stateAt(header, ROOT_THREAD, 1);
  if (!first && summary.version === 0) {
    await resendLazyStart(rt, work, summary);
    return;
  }
  if (!first) {
    const ended = summary.thread.status !== "running";
    await rt.store.putThread(summary, 0, rt.stepExpiry(header, ended));
    await resend(rt, work, [summary]);
    return;
  }
  const found = await findCaused(rt, header, ROOT_THREAD, summary.causedBy);
  if (found.kind === "chain") await resend(rt, work, found.steps);
}

/**
 * Re-sends the first run of a lazy start (its summary is step 0, and the run's commit
 * the root's first step) with the history it carries; a copy whose step is committed
 * finds it and stops.
 */
export async function resendLazyStart(
  rt: RuntimeContext,
  work: Work,
  summary: ThreadRecord,
): Promise<void> {
  // Its timers too: they went in the same send (a second firing changes nothing).
  const messages = resentOutbox(summary).map((m) =>
    m.body.kind === "run" ? { ...m, body: { ...m.body, events: summary.events } } : m,
  );
  await fitMessages(rt, summary.header, messages);
  work.dispatch(messages);
}

/** Re-sends what the step that consumed event `key` of a thread caused, while it is the latest. */
export async function resendConsumer(
  rt: RuntimeContext,
  work: Work,
  header: ExecutionHeader,
  thread: string,
  key: string,
): Promise<void> {
  const recent = await rt.store.recentSteps(header, thread, RECENT_STEPS);
  const taken = recent.find((r) => r.consumed?.key === key);
  if (!taken) return;
  const chain = taken.origin ?? taken.causedBy;
  const steps: ThreadRecord[] = [];
  for (const record of recent) {
    if (record !== taken && record.origin !== chain) return; // moved on: what it caused was sent
    steps.unshift(record);
    if (record === taken) break;
  }
  await resend(rt, work, steps);
}

/** Waiter entries read per query by `signal` (it usually needs the first only). */
export const WAITER_PAGE = 25;

/**
 * The threads indexed as waiting for `event` (see `putEventWaiter`), each once, a page
 * at a time: a caller that stops early reads no further.
 */
export async function* eventWaiters(
  rt: RuntimeContext,
  header: ExecutionHeader,
  event: string,
): AsyncGenerator<string> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await rt.store.eventWaiters(header, event, WAITER_PAGE, cursor);
    for (const waiter of page.items) {
      if (seen.has(waiter.thread)) continue;
      seen.add(waiter.thread);
      yield waiter.thread;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/**
 * The thread whose latest steps consumed event `key`, if any, among the threads noted
 * as about to take it (`noteEventTaker`, written before any commit that takes it).
 */
export async function findConsumer(
  rt: RuntimeContext,
  header: ExecutionHeader,
  takers: readonly string[],
  key: string,
): Promise<string | undefined> {
  for (const thread of takers) if (await consumedBy(rt, header, thread, key)) return thread;
  return undefined;
}

async function consumedBy(
  rt: RuntimeContext,
  header: ExecutionHeader,
  thread: string,
  key: string,
): Promise<boolean> {
  const recent = await rt.store.recentSteps(header, thread, RECENT_STEPS);
  return recent.some((r) => r.consumed?.key === key);
}

/** A long timer or retry is sent on at each hop only while its thread still waits for it. */
export async function stillWanted(rt: RuntimeContext, envelope: OutMessage): Promise<boolean> {
  const body = envelope.body;
  if (body.kind === "event" && body.event.type === "TimerFired") {
    const latest = await rt.store.getThread(body.header, body.thread);
    if (!latest) return true;
    const t = latest.thread;
    if (t.status !== "running") return false;
    const event = body.event;
    if (event.purpose === "workflow-timeout") return true;
    if (t.step !== event.token.step) return false;
    if (event.purpose === "heartbeat")
      return t.waiting?.kind === "activity" && t.waiting.heartbeatSeq === event.seq;
    return true;
  }
  if (body.kind === "run" && body.thread !== undefined) {
    const latest = await rt.store.getThread(body.header, body.token.thread);
    return latest === undefined || latest.version === body.version;
  }
  return true;
}
