/**
 * Steps that ride with the run they cause. A join that a report has just closed
 * continues its parent; when all that continuation does is run the parent's next
 * activity, it is not committed: the run carries the parent's new state and the step's
 * history on top of the parent's latest step, and the run's commit writes both — one
 * write fewer on the critical path (DESIGN.md section 5's budget), as a branch's or a
 * start's first run already does from step 0.
 *
 * Why it is safe: the run's commit is conditional on the parent's step the continuation
 * applied to, so it lands once, or finds that step taken (a cancel, a timeout, a copy
 * of the continuation re-derived by a redelivered report and committed the usual way)
 * and applies its outcome to what is there. A report redelivered after the close never
 * takes this path: its join-complete is committed as before.
 */
import { applyThreadEvent, type ThreadEvent } from "../core/engine/index.ts";
import type { ExecutionHeader, OutMessage, ParentSnapshot } from "../core/ports.ts";
import type { RuntimeContext } from "./context.ts";
import { fitMessages, prepare } from "./outbox.ts";
import type { Work } from "./unit-of-work.ts";

/**
 * Continues `threadId` from `snapshot` with `event` by sending its next run with the
 * step it carries, committing nothing.
 * @returns false when the step must be committed instead: it does more than run one
 * activity of its thread (or a timer), or its run cannot carry it within SQS's limit.
 */
export async function continueWithRun(
  rt: RuntimeContext,
  work: Work,
  header: ExecutionHeader,
  threadId: string,
  event: ThreadEvent,
  mid: string,
  snapshot: ParentSnapshot,
): Promise<boolean> {
  if (snapshot.thread.id !== threadId) return false;
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const context = await rt.executionContext(header);
  const thread = await rt.loadThread(snapshot.thread);
  const step = applyThreadEvent(definition, context, thread, event, rt.now());
  if (!step.changed || step.thread.status !== "running" || step.thread.waiting?.kind !== "activity")
    return false;
  const base = snapshot.version;
  const prepared = await prepare(rt, header, step, base + 1, mid);
  const { live, record } = prepared;
  const runs = live.filter((m) => m.body.kind === "run" && m.notBefore === undefined);
  const timers = live.filter((m) => m.body.kind === "event" && m.notBefore !== undefined);
  if (
    runs.length !== 1 ||
    runs.length + timers.length !== live.length ||
    prepared.joins.length > 0 ||
    prepared.cancels.length > 0
  )
    return false;
  // Named after the continuation's own message, not the step the run will commit: the
  // messages of that step are `<thread>#<base + 1>/<n>`, and ids must not repeat.
  const usage = rt.takeUsage(header);
  const messages: OutMessage[] = live.map((message, n) => {
    const named = { ...message, mid: `${mid}/${n}`, ...(usage && n === 0 ? { usage } : {}) };
    if (message.body.kind !== "run") return named;
    return {
      ...named,
      body: { ...message.body, thread: record.thread, version: base, events: record.events },
    };
  });
  if (!(await fitMessages(rt, header, messages))) {
    if (usage) rt.meter.current?.giveBack(header, usage);
    return false;
  }
  for (const metric of prepared.metrics) rt.metrics.emit(header, [metric], rt.now());
  work.dispatch(messages);
  return true;
}
