/**
 * The dispatch table: one handler per message kind, and the work loop that processes
 * a received message and the follow-ups it causes inline (no mutual recursion: every
 * handler only queues what comes next).
 */
import { applyThreadEvent, ERRORS, type ThreadEvent } from "../core/engine/index.ts";
import type { StoredEvent, WireMessage } from "../core/ports.ts";
import { attempt } from "./attempt.ts";
import { startBranch } from "./branch-start.ts";
import {
  applyEvent,
  CONFLICT,
  commitThread,
  findCaused,
  resend,
  type Snapshot,
  untilCommitted,
} from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { RuntimeError } from "./errors.ts";
import { readItems } from "./items/fan-out.ts";
import { cancelJoinBranches, finished, joinComplete, startBranches } from "./joins.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { TRANSITIONS, type Work } from "./unit-of-work.ts";
import { collectWidePage } from "./wide-fan-in.ts";

/** Processes the work's pending follow-ups until none is left. */
export async function drain(rt: RuntimeContext, work: Work): Promise<void> {
  for (let next = work.take(); next; next = work.take())
    await processMessage(rt, work, next.mid, next.body, { receiveCount: 1 });
}

/** How a message arrived: its receive count, when it was sent (epoch ms), whether from the queue. */
export interface Arrival {
  readonly receiveCount: number;
  readonly sentAt?: number;
  /** False (default) for a follow-up processed inline or an HTTP call's own step. */
  readonly fromQueue?: boolean;
}

export async function processMessage(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: WireMessage,
  arrival: Arrival,
): Promise<void> {
  work.firstDelivery = arrival.fromQueue === true && arrival.receiveCount === 1;
  switch (body.kind) {
    case "run":
      return run(rt, work, mid, body, arrival);
    case "event":
      await applyEvent(rt, work, body.header, body.thread, await rt.loadEvent(body.event), mid);
      return;
    case "branch":
      return startBranch(rt, work, mid, body);
    case "finished":
      return finished(rt, work, mid, body);
    case "cancel-join":
      return cancelJoinBranches(rt, work, mid, body.header, body.joinId, body.after, body.shard);
    case "collect-join":
      return collectWidePage(rt, work, mid, body);
    case "read-items":
      return readItems(rt, work, mid, body);
    case "join-complete":
      return joinComplete(rt, work, mid, body, arrival);
    case "start-branches":
      return startBranches(rt, work, body);
    case "take-event":
      await takeEvent(rt, work, mid, body);
      return;
    case "work":
      return workJob(rt, work, mid, body, arrival);
    default: {
      const unreachable: never = body;
      throw new RuntimeError("BAD_MESSAGE", `unknown message kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The error of an attempt whose process stopped before it finished (killed or crashed). */
const stoppedError = (state: string) => ({
  name: ERRORS.TIMEOUT,
  message: `the process running '${state}' stopped before the attempt finished (its function timed out or crashed)`,
});

/**
 * Deliveries of one attempt whose process died (killed at its function timeout, or
 * crashed) before the attempt counts as timed out: a death or two are retried as if
 * nothing happened (a crash may come before the attempt began); a third means the
 * attempt cannot finish where it runs. The queue's fifth receive dead-letters it.
 */
export const DEATHS_BEFORE_TIMEOUT = 3;

/**
 * True when an activity message's earlier deliveries died with their process while the
 * attempt's time ran out: not a handler that failed with an error this runtime noted,
 * not one redelivered sooner than the Task's timeout, and not a first death.
 */
async function attemptTimedOut(
  rt: RuntimeContext,
  body: Extract<WireMessage, { kind: "run" | "work" }>,
  mid: string,
  arrival: Arrival,
): Promise<boolean> {
  if (arrival.receiveCount <= DEATHS_BEFORE_TIMEOUT || body.timeoutMs === undefined) return false;
  if (arrival.sentAt === undefined || rt.now() - arrival.sentAt < body.timeoutMs) return false;
  const note = await rt.store.lastFailure(body.header);
  return note?.mid !== mid;
}

async function run(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "run" }>,
  arrival: Arrival,
): Promise<void> {
  const { header, token } = body;
  const { receiveCount } = arrival;
  let carried: Snapshot | undefined = body.thread
    ? {
        thread: body.thread,
        version: body.version,
        ...(body.events === undefined ? {} : { pending: body.events }),
      }
    : undefined;
  if (receiveCount > 1 || body.check === "thread") {
    // A redelivery, a retry that waited in the queue, or a branch its join may drop:
    // if its step is committed, re-send what it caused; if its thread moved on, stop.
    const found = await findCaused(rt, header, token.thread, mid);
    if (found.kind === "chain") {
      if (work.mayResend) await resend(rt, work, found.steps);
      return;
    }
    if (found.kind === "done") return;
    const latest = found.latest;
    // A run carrying an uncommitted step on top of the thread's latest: nothing has
    // committed since, so the step it carries is still the thread's state.
    const carries = body.events !== undefined && latest?.version === body.version;
    if (latest && !carries) {
      const t = latest.thread;
      const waiting =
        latest.version === body.version &&
        t.status === "running" &&
        t.waiting?.kind === "activity" &&
        t.step === token.step &&
        t.attempt === token.attempt;
      if (!waiting) return;
      carried = latest;
    } else if (!latest && body.version !== 0) {
      throw new RuntimeError(
        "MISSING_RECORD",
        `thread ${token.thread} of ${header.executionId} has no step ${body.version}`,
      );
    }
  }
  if (
    body.check !== undefined &&
    (await work.batch.cancelRequested(rt.store, header, rt.now())) !== undefined
  )
    return; // The execution is being cancelled: queued work does not start.
  let event: ThreadEvent;
  if (await attemptTimedOut(rt, body, mid, arrival)) {
    // The attempt's process died mid-run: that attempt timed out, and the Task's own
    // retry and catch decide what comes next (not five redeliveries and a dead letter).
    event = { type: "ActivityFailed", token, error: stoppedError(body.state) };
  } else {
    const outcome = await attempt(
      rt,
      header,
      body,
      await rt.codec.load(body.input),
      true,
      work.batch.signal,
      carried?.pending === undefined ? undefined : carried.version,
    );
    const cache = outcome.cache;
    event =
      "ok" in outcome
        ? { type: "ActivitySucceeded", token, output: outcome.ok, ...(cache ? { cache } : {}) }
        : {
            type: "ActivityFailed",
            token,
            error: outcome.error,
            ...(cache ? { cache: "miss" } : {}),
          };
  }
  await applyEvent(rt, work, header, token.thread, event, mid, carried);
}

/**
 * What a `take-event` did: the key of the event its thread took (now or, for a
 * redelivery, before), `not-waiting` when the thread does not wait for that event at
 * its latest step, `none-buffered` when it does but no event of that name is left.
 */
export type TakeOutcome = { readonly took: string } | "not-waiting" | "none-buffered";

/** An HTTP call's `take-event` for one thread (`signal`), with what it did. */
export function deliverEvent(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "take-event" }>,
): Promise<TakeOutcome> {
  work.firstDelivery = false;
  return takeEvent(rt, work, mid, body);
}

/**
 * A thread started waiting for an event: deliver the oldest one that arrived, only to
 * a thread that waits for it now, at that very step. The event is marked consumed
 * after the commit that took it, never before.
 */
async function takeEvent(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "take-event" }>,
): Promise<TakeOutcome> {
  const { header } = body;
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const context = await rt.executionContext(header);
  // On a lost write everything is read again — the thread and the oldest event — never
  // the same event applied to the thread's next wait.
  return untilCommitted<TakeOutcome>(
    rt,
    `thread ${body.thread} of ${header.executionId}`,
    async () => {
      const found = await findCaused(rt, header, body.thread, mid);
      if (found.kind === "chain") {
        if (work.mayResend) await resend(rt, work, found.steps);
        const took = found.steps.find((r) => r.consumed !== undefined)?.consumed?.key;
        return { value: took === undefined ? "not-waiting" : { took } };
      }
      const record = found.kind === "none" ? found.latest : undefined;
      const waiting = record?.thread.waiting;
      if (
        record?.thread.status !== "running" ||
        waiting?.kind !== "event" ||
        waiting.event !== body.event
      )
        return { value: "not-waiting" };
      const head = await rt.store.peekBufferedEvent(header, body.event);
      if (head === undefined) return { value: "none-buffered" };
      if (found.kind === "none" && found.recent.some((r) => r.consumed?.key === head.key)) {
        // This thread took that event already (its invocation stopped before marking it):
        // mark it now and look again, never deliver one event to two waits.
        await rt.store.deleteBufferedEvent(header, body.event, head.key, body.thread);
        return CONFLICT;
      }
      const event: ThreadEvent = {
        type: "EventReceived",
        event: body.event,
        payload: await rt.codec.load(head.payload),
        token: { thread: body.thread, step: record.thread.step },
      };
      const thread = await rt.loadThread(record.thread);
      const step = applyThreadEvent(definition, context, thread, event, rt.now());
      if (!step.changed) return { value: "not-waiting" };
      const consumed = { event: body.event, key: head.key };
      // Noted before the commit: a retried signal finds a consumer that stopped before
      // marking the event among its takers, not among every waiting thread.
      await rt.store.noteEventTaker(header, body.event, head.key, body.thread);
      return (await commitThread(rt, work, header, step, record, mid, consumed))
        ? { value: { took: head.key } }
        : CONFLICT;
    },
  );
}

/** A dedicated worker's job: run the activity, send its outcome back as an event. */
async function workJob(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: Extract<WireMessage, { kind: "work" }>,
  arrival: Arrival,
): Promise<void> {
  // A queued job of an execution being cancelled does not start.
  if ((await work.batch.cancelRequested(rt.store, body.header, rt.now())) !== undefined) return;
  let event: StoredEvent;
  if (await attemptTimedOut(rt, body, mid, arrival)) {
    event = { type: "ActivityFailed", token: body.token, error: stoppedError(body.state) };
  } else {
    const input = await rt.codec.load(body.input);
    const outcome = await attempt(rt, body.header, body, input, true, work.batch.signal);
    const cache = outcome.cache;
    event =
      "ok" in outcome
        ? {
            type: "ActivitySucceeded",
            token: body.token,
            output: await rt.codec.store(outcome.ok, body.header),
            ...(cache ? { cache } : {}),
          }
        : {
            type: "ActivityFailed",
            token: body.token,
            error: outcome.error,
            ...(cache ? { cache: "miss" as const } : {}),
          };
  }
  work.batch.outgoing.push({
    source: work.source,
    message: {
      mid: MESSAGE_IDS.result(mid),
      queue: TRANSITIONS,
      body: { kind: "event", header: body.header, thread: body.token.thread, event },
    },
  });
}
