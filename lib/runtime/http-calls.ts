/**
 * The transitions an HTTP call causes — start, cancel, signal — each as durable as a
 * queued one (DESIGN.md invariant 2): committed first, then sent; a crash between is
 * finished by a retried call or, without one, by the reconciler.
 */
import { randomUUID } from "node:crypto";
import { checkInput } from "../core/cdl/input-schema.ts";
import {
  ROOT_THREAD,
  type StartFrom,
  startExecution,
  type ThreadStep,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionHeader, ThreadRecord } from "../core/ports.ts";
import { afterCommit, applyEvent, resend } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { deliverEvent } from "./dispatch.ts";
import { StartError } from "./errors.ts";
import { EXECUTION_ID_PATTERN, MESSAGE_IDS } from "./message-ids.ts";
import { type Prepared, prepare } from "./outbox.ts";
import { eventWaiters, findConsumer, finishStart, resendConsumer } from "./recovery.ts";
import type { CancelOutcome } from "./runtime.ts";
import { Batch, type Work } from "./unit-of-work.ts";

/** What the calls share with the runtime facade: its context, its work and its batch end. */
export interface HttpCalls {
  readonly rt: RuntimeContext;
  /** Definition hashes this process has written to the store. */
  readonly persisted: Set<string>;
  work(batch: Batch, cause: string, header?: ExecutionHeader): Work;
  finish(batch: Batch, work: Work): Promise<void>;
}

export async function startCall(
  calls: HttpCalls,
  workflow: string,
  input: JsonValue,
  options: {
    id?: string;
    tenant?: string;
    traceparent?: string;
    /** A redrive: the definition it is pinned to and where it starts (see redrive.ts). */
    redrive?: { readonly definitionHash: string; readonly from: StartFrom };
  } = {},
): Promise<{ executionId: string; created: boolean; record: ThreadRecord }> {
  const rt = calls.rt;
  const { definitions, store } = rt.deps;
  const redrive = options.redrive;
  const current = redrive
    ? {
        hash: redrive.definitionHash,
        definition: await definitions.byHash(redrive.definitionHash),
      }
    : definitions.current(workflow);
  if (!redrive && !calls.persisted.has(current.hash)) {
    await definitions.persist(workflow);
    calls.persisted.add(current.hash);
  }
  if (options.id !== undefined && !EXECUTION_ID_PATTERN.test(options.id)) {
    throw new StartError(
      "INVALID_ID",
      `'${options.id}' is not a valid execution id: 1-128 letters, digits, _ . : - (starting with a letter or digit)`,
    );
  }
  if (current.definition.inputSchema && !redrive) {
    const problems = checkInput(current.definition.inputSchema, input);
    if (problems.length > 0) {
      throw new StartError(
        "INVALID_INPUT",
        `the input does not match ${workflow}'s input_schema`,
        problems,
      );
    }
  }
  const now = rt.now();
  const executionId = options.id ?? randomUUID();
  const tenant = options.tenant ?? "default";
  const header: ExecutionHeader = {
    tenant,
    executionId,
    app: rt.options.app,
    workflow,
    definitionHash: current.hash,
    startedAt: now,
    input: await rt.headerCodec.store(input, { tenant, executionId }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
  };
  const context = await rt.executionContext(header);
  const step = startExecution(current.definition, context, now, redrive?.from);
  const mid = MESSAGE_IDS.start(executionId);
  // A start whose first state is a Task writes only its summary: the run carries the
  // root's state and history, and the run's commit is the root's first step.
  const lazy = redrive ? undefined : await lazyStart(rt, header, step, mid);
  const prepared = lazy ?? (await prepare(rt, header, step, 1, mid));
  const ended = step.thread.status !== "running";
  // The summary first: it holds the first step, so a start that stops here is finished
  // by its retry or by the reconciler, never left an orphan.
  const result = await store.createExecution(prepared.record, rt.stepExpiry(header, ended));
  const batch = new Batch(false);
  const work = calls.work(batch, mid);
  if (!result.created) {
    const existing = result.existing;
    const existingInput = await rt.headerCodec.load(existing.header.input);
    if (
      existing.header.workflow !== workflow ||
      JSON.stringify(existingInput) !== JSON.stringify(input)
    ) {
      throw new StartError(
        "ID_CONFLICT",
        `execution '${executionId}' already exists with another workflow or input`,
      );
    }
    await finishStart(rt, work, existing);
    await calls.finish(batch, work);
    const record = (await store.getExecution(header.tenant, executionId)) ?? existing;
    return { executionId, created: false, record };
  }
  const usage = rt.takeUsage(header);
  if (lazy) {
    // What the call spent rides with the run, whose commit records it.
    work.dispatch(usage ? lazy.live.map((m) => ({ ...m, usage })) : lazy.live);
  } else {
    const first = usage ? { ...prepared.record, usage } : prepared.record;
    if (await store.putThread(first, 0, rt.stepExpiry(header, ended)))
      await afterCommit(rt, work, prepared.record, prepared);
    else await finishStart(rt, work, prepared.record);
  }
  rt.metrics.emit(
    header,
    [{ name: "WorkflowStarted", value: 1, unit: "Count", dimensions: { workflow } }],
    now,
  );
  await calls.finish(batch, work);
  return { executionId, created: true, record: prepared.record };
}

/**
 * The first step of a start, prepared uncommitted (version 0) when all it causes is runs
 * of the root (and timers): undefined when it must be committed — it ends at once, starts
 * a fan-out, waits for an event, or its run cannot carry the root within SQS's limit.
 */
async function lazyStart(
  rt: RuntimeContext,
  header: ExecutionHeader,
  step: ThreadStep,
  mid: string,
): Promise<Prepared | undefined> {
  if (step.thread.status !== "running" || step.thread.waiting?.kind !== "activity")
    return undefined;
  const prepared = await prepare(rt, header, step, 0, mid);
  const runs = prepared.live.filter((m) => m.body.kind === "run" && m.notBefore === undefined);
  const timers = prepared.live.filter((m) => m.body.kind === "event" && m.notBefore !== undefined);
  const only = runs.length === 1 && runs.length + timers.length === prepared.live.length;
  if (!prepared.carries || !only || prepared.joins.length > 0 || prepared.cancels.length > 0)
    return undefined;
  return prepared;
}

export async function cancelCall(
  calls: HttpCalls,
  tenant: string,
  executionId: string,
  reason: string,
): Promise<CancelOutcome> {
  const rt = calls.rt;
  const view = await rt.store.getExecution(tenant, executionId);
  if (!view) return { outcome: "missing" };
  const mid = MESSAGE_IDS.cancel(executionId);
  const batch = new Batch(false);
  const work = calls.work(batch, mid);
  if (view.thread.status !== "running") {
    if (view.causedBy !== mid && view.origin !== mid)
      return { outcome: "ended", status: view.thread.status };
    // A retry: the first call committed the cancel and may have stopped before the rest.
    await resend(rt, work, [view]);
    await calls.finish(batch, work);
    return { outcome: "cancelled" };
  }
  await rt.store.requestCancel(view.header, reason, rt.runningExpiry(view.header));
  const applied = await applyEvent(
    rt,
    work,
    view.header,
    ROOT_THREAD,
    { type: "CancelRequested", reason },
    mid,
  );
  await calls.finish(batch, work);
  if (applied === "committed" || applied === "resent") return { outcome: "cancelled" };
  const latest = await rt.store.getExecution(tenant, executionId);
  if (latest?.causedBy === mid) return { outcome: "cancelled" };
  return { outcome: "ended", status: latest?.thread.status ?? view.thread.status };
}

export async function signalCall(
  calls: HttpCalls,
  tenant: string,
  executionId: string,
  event: string,
  payload: JsonValue,
  id: string,
): Promise<boolean> {
  const rt = calls.rt;
  const { store } = rt;
  const view = await store.getExecution(tenant, executionId);
  if (view?.thread.status !== "running") return false;
  const header = view.header;
  const stored = await rt.codec.store(payload, header);
  const order = `${String(rt.now()).padStart(13, "0")}-${id}`;
  const batch = new Batch(false);
  const work = calls.work(batch, MESSAGE_IDS.signal(id, ROOT_THREAD));
  const accepted = await store.bufferEvent(
    header,
    event,
    id,
    order,
    stored,
    rt.runningExpiry(header),
  );
  if (!accepted) {
    // A retry: the thread that took the event may have stopped before marking it or
    // before sending what followed.
    const marker = await store.bufferedEventConsumer(header, event, id);
    const consumer =
      marker?.consumedBy ?? (await findConsumer(rt, header, marker?.takers ?? [], id));
    if (consumer !== undefined) {
      if (marker?.consumedBy === undefined)
        await store.deleteBufferedEvent(header, event, id, consumer);
      await resendConsumer(rt, work, header, consumer, id);
      await calls.finish(batch, work);
      return true;
    }
  }
  // Delivery is tried either way, in case the first attempt stopped before it: to the
  // root if it waits, then to the branches indexed as waiting (one query a page), until
  // this event is taken or none is left. A thread that starts waiting after this read
  // takes the event itself (its own take-event), so an entry missed here loses nothing.
  const deliver = async (thread: string): Promise<boolean> => {
    const outcome = await deliverEvent(rt, work, MESSAGE_IDS.signal(id, thread), {
      kind: "take-event",
      header,
      thread,
      event,
    });
    return outcome === "none-buffered" || (typeof outcome === "object" && outcome.took === id);
  };
  const rootWaits = view.thread.waiting?.kind === "event" && view.thread.waiting.event === event;
  if (!(rootWaits && (await deliver(ROOT_THREAD)))) {
    for await (const thread of eventWaiters(rt, header, event)) {
      if (thread !== ROOT_THREAD && (await deliver(thread))) break;
    }
  }
  await calls.finish(batch, work);
  return true;
}
