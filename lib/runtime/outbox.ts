/**
 * The one place where the engine's commands become messages: a step of a thread
 * turns into the record to commit (state, history, stored outbox), the messages to
 * send once it is committed, the joins it creates, its metrics and the running
 * activities it stops. Message ids name the step (`message-ids.ts`).
 */
import {
  type FlowRef,
  fanOutState,
  type HistoryEvent,
  type Metric,
  resolveFlow,
  type ThreadStep,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  ExecutionHeader,
  JoinRecord,
  OutMessage,
  RunCheck,
  ThreadRecord,
  WireMessage,
} from "../core/ports.ts";
import { workerQueue } from "../manifest/index.ts";
import { branchStartMessages, cancelBranchMessages, rangeOf } from "./branch-messages.ts";
import {
  BRANCH_PAGE,
  ENVELOPE_BUDGET_BYTES,
  fit as fitEnvelope,
  jsonBytesUpTo,
  MESSAGE_BUDGET_BYTES,
  smallBranchOutput,
  storeHistory,
} from "./budget.ts";
import type { PayloadOwner } from "./codec.ts";
import { boundError, type RuntimeContext, runningKey } from "./context.ts";
import { RuntimeError } from "./errors.ts";
import { readItemsMessage } from "./items/fan-out.ts";
import { START_CURSOR } from "./items/reader.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import { TRANSITIONS } from "./unit-of-work.ts";
import { wideJoinOf } from "./wide-joins.ts";

export {
  branchPageMessage,
  branchStartMessages,
  cancelBranchMessages,
} from "./branch-messages.ts";

export interface Prepared {
  /** The step to commit: its outbox keeps one line per fan-out, not one message per branch. */
  readonly record: ThreadRecord;
  /** What to send once the step is committed. */
  readonly live: OutMessage[];
  /** Joins the step creates (written after its commit; a re-send creates them again if needed). */
  readonly joins: JoinRecord[];
  readonly metrics: Metric[];
  /** Activities running in this process that the step stops (`runningKey`s). */
  readonly cancels: string[];
  /** False when a run could not carry its thread within SQS's limit (it reads it instead). */
  readonly carries: boolean;
}

export interface PrepareOptions {
  /** The message that began this thread's chain of steps, when not `mid` (see ThreadRecord.origin). */
  readonly origin?: string;
  /** For a branch's start: what its first run reads before it starts. */
  readonly check?: RunCheck;
}

/** Turns a step into the record to write and the messages it causes. */
export async function prepare(
  rt: RuntimeContext,
  header: ExecutionHeader,
  step: ThreadStep,
  version: number,
  mid: string,
  options: PrepareOptions = {},
): Promise<Prepared> {
  const events: HistoryEvent[] = [];
  const metrics: Metric[] = [];
  const joins: JoinRecord[] = [];
  const cancels: string[] = [];
  const outbox: OutMessage[] = [];
  const stored: OutMessage[] = [];
  const thread = await rt.storeThread(step.thread, header);
  let n = 0;
  const id = () => MESSAGE_IDS.step(thread.id, version, n++);
  // Activities enforce their own timeout and heartbeat where they run; a process that
  // dies is found by the redelivery of its message (see dispatch.ts), so no timer is sent.
  const activityTokens = new Set<string>();
  for (const command of step.commands) {
    if (command.type === "RunActivity")
      activityTokens.add(`${command.token.thread}/${command.token.step}/${command.token.attempt}`);
  }
  for (const command of step.commands) {
    switch (command.type) {
      case "RecordHistory":
        events.push(...command.events);
        break;
      case "EmitMetric":
        metrics.push(command.metric);
        break;
      case "RunActivity": {
        let input = await rt.codec.store(command.input, header);
        if ("inline" in input && "inline" in thread.data) {
          const size =
            Buffer.byteLength(JSON.stringify(command.input)) +
            Buffer.byteLength(JSON.stringify(thread.data.inline));
          if (size > ENVELOPE_BUDGET_BYTES)
            input = await rt.codec.store(command.input, header, true);
        }
        const worker = command.pool !== undefined && rt.options.workerRegions?.has(command.pool);
        const base = {
          header,
          input,
          activity: command.activity,
          token: command.token,
          state: command.state,
          idempotencyKey: command.idempotencyKey,
          ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
          ...(command.heartbeatMs === undefined ? {} : { heartbeatMs: command.heartbeatMs }),
          ...(command.cache === undefined ? {} : { cache: command.cache }),
        };
        const delay = command.notBefore === undefined ? {} : { notBefore: command.notBefore };
        if (worker) {
          outbox.push({
            mid: id(),
            queue: workerQueue(command.pool),
            ...delay,
            body: { kind: "work", ...base },
          });
        } else {
          // Every queued run checks the execution's cancel request before it starts (once
          // per batch and execution); a retry that waited, and a branch its join may drop,
          // also read their thread.
          const check: RunCheck =
            command.notBefore !== undefined
              ? "thread"
              : version === 0
                ? (options.check ?? "cancel")
                : "cancel";
          outbox.push({
            mid: id(),
            queue: TRANSITIONS,
            ...delay,
            body: { kind: "run", ...base, version, ...(check ? { check } : {}) },
          });
        }
        break;
      }
      case "ScheduleTimer": {
        const token = command.token;
        if (
          (command.purpose === "timeout" || command.purpose === "heartbeat") &&
          activityTokens.has(`${token.thread}/${token.step}/${token.attempt ?? 1}`)
        ) {
          break;
        }
        outbox.push({
          mid: id(),
          queue: TRANSITIONS,
          notBefore: command.at,
          body: {
            kind: "event",
            header,
            thread: token.thread,
            event: {
              type: "TimerFired",
              token,
              purpose: command.purpose,
              ...(command.seq === undefined ? {} : { seq: command.seq }),
            },
          },
        });
        break;
      }
      case "AwaitEvent":
        outbox.push({
          mid: id(),
          queue: TRANSITIONS,
          body: { kind: "take-event", header, thread: command.token.thread, event: command.event },
        });
        break;
      case "StartJoin": {
        const inputs: JsonValue =
          command.inputs.kind === "items"
            ? (command.inputs.items as JsonValue)
            : command.inputs.kind === "pages"
              ? ({ pages: command.inputs.pages } as unknown as JsonValue)
              : command.inputs.value;
        // Referenced past 1 KB: the join and the fan-out's stored line then hold a key,
        // not a third and fourth copy of the items beside the thread's data.
        // Paged items and a result writer always go through a wide join's paged fan-in.
        const wide = wideJoinOf(
          command.join,
          command.inputs.kind === "pages" || command.writer ? 1 : rt.options.wideJoinFrom,
          command.writer,
        );
        joins.push({
          header,
          join: command.join,
          inputs: await rt.codec.store(inputs, header, true),
          version: 1,
          causedBy: mid,
          starts: [],
          ...(wide ? { wide } : {}),
        });
        break;
      }
      case "StartBranches": {
        const join = joins.find((j) => j.join.id === command.joinId);
        if (!join)
          throw new RuntimeError("BAD_MESSAGE", `StartBranches for unknown join ${command.joinId}`);
        const inputs = await rt.codec.load(join.inputs);
        const create = {
          join: join.join,
          inputs: join.inputs,
          ...(join.wide ? { wide: join.wide } : {}),
        };
        outbox.push(
          ...(await branchStartMessages(rt, header, join.join, inputs, command.indexes, {
            create,
          })),
        );
        // Stored as one line, as a range when wide: a fan-out of 100,000 items must not
        // fill the thread's item.
        const range = rangeOf(command.indexes);
        stored.push({
          mid: id(),
          queue: TRANSITIONS,
          body: {
            kind: "start-branches",
            header,
            joinId: command.joinId,
            ...(range && command.indexes.length > BRANCH_PAGE
              ? { indexes: [], range }
              : { indexes: [...command.indexes] }),
            create,
          },
        });
        break;
      }
      case "ReadItems":
        outbox.push(
          readItemsMessage({
            header,
            token: command.token,
            source: command.source,
            page: 0,
            cursor: START_CURSOR as unknown as JsonValue,
            starts: [],
          }),
        );
        break;
      case "CancelJoin":
        outbox.push({
          mid: id(),
          queue: TRANSITIONS,
          body: { kind: "cancel-join", header, joinId: command.joinId },
        });
        break;
      case "CancelBranches":
        outbox.push(...cancelBranchMessages(header, command.joinId, command.indexes, "cancelled"));
        break;
      case "FinishBranch": {
        const output =
          command.branch.status === "succeeded" ? smallBranchOutput(step.thread) : undefined;
        const eager = await continuesEarly(rt, header, step.thread.flow);
        outbox.push({
          mid: id(),
          queue: TRANSITIONS,
          body: {
            kind: "finished",
            header,
            joinId: command.branch.joinId,
            index: command.branch.index,
            status: command.branch.status,
            ...(command.branch.error === undefined
              ? {}
              : { error: boundError(command.branch.error) }),
            ...(output === undefined ? {} : { output }),
            ...(eager ? { eager } : {}),
            step: version,
          },
        });
        break;
      }
      case "CancelActivity":
        cancels.push(runningKey(header, command.token.thread));
        break;
      case "CompleteJoin":
      case "CompleteExecution":
      case "FailExecution":
      case "CancelExecution":
        // The root thread's step is the execution: its status and output are in the commit itself.
        break;
      default: {
        const unreachable: never = command;
        throw new RuntimeError("BAD_MESSAGE", `unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  }
  const kept = [...outbox.filter((m) => m.body.kind !== "branch"), ...stored];
  await fitEnvelope(rt.codec, header, thread, kept);
  const record: ThreadRecord = {
    header,
    thread,
    version,
    causedBy: mid,
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    outbox: kept.map(compactRun),
    events: (await storeHistory(rt.codec, header, events, step.thread.data)).map((e) =>
      e.error ? { ...e, error: boundError(e.error) } : e,
    ),
    committedAt: rt.now(),
  };
  const live = outboxOf({ ...record, outbox: outbox.map(compactRun) });
  if (version === 0 && record.events.length > 0) {
    // A lazy branch start commits nothing: its history rides with its first run.
    for (const [i, message] of live.entries()) {
      if (message.body.kind === "run")
        live[i] = { ...message, body: { ...message.body, events: record.events } };
    }
  }
  const carries = await fitMessages(rt, header, live);
  return { record, live, joins, metrics, cancels, carries };
}

/**
 * True for a branch of a Parallel that completes with ANY or AT_LEAST: its report is
 * applied at once, so the parent continues as soon as enough branches are done, even
 * when the others arrived in the same SQS batch.
 */
async function continuesEarly(
  rt: RuntimeContext,
  header: ExecutionHeader,
  flow: FlowRef,
): Promise<boolean> {
  const last = flow.at(-1);
  if (last?.branch === undefined) return false;
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const state = fanOutState(resolveFlow(definition, flow.slice(0, -1)), last.state);
  return state.type === "Parallel" && state.completion !== "ALL";
}

/**
 * Keeps every message within SQS's limit: a large input is referenced, then a run stops
 * carrying its thread (its handler reads the thread instead).
 * @returns false when a run that carries an uncommitted step (a branch's or a start's
 * first run, a join's continuation: its thread exists nowhere else) cannot carry it:
 * that step must then be committed.
 */
export async function fitMessages(
  rt: RuntimeContext,
  owner: PayloadOwner,
  messages: OutMessage[],
): Promise<boolean> {
  let carries = true;
  for (const [i, message] of messages.entries()) {
    if (jsonBytesUpTo(message, MESSAGE_BUDGET_BYTES) <= MESSAGE_BUDGET_BYTES) continue;
    let body = message.body;
    if ("input" in body && "inline" in body.input)
      body = {
        ...body,
        input: await rt.codec.store(body.input.inline, owner, true),
      } as WireMessage;
    if (
      jsonBytesUpTo({ ...message, body }, MESSAGE_BUDGET_BYTES) > MESSAGE_BUDGET_BYTES &&
      body.kind === "run"
    ) {
      // A run that carries an uncommitted step (a lazy start, a join's continuation)
      // has nowhere to read it from: that step must be committed instead.
      if (body.version === 0 || body.events !== undefined) carries = false;
      else {
        const { thread: _thread, events: _events, ...rest } = body;
        body = rest;
      }
    }
    messages[i] = { ...message, body };
  }
  return carries;
}

/** `run` messages are stored without the thread they carry: it is the record's own. */
function compactRun(message: OutMessage): OutMessage {
  if (message.body.kind !== "run" || message.body.thread === undefined) return message;
  const { thread: _thread, ...body } = message.body;
  return { ...message, body };
}

/** A record's outbox as sent: `run` messages carry the record's own thread again. */
export function outboxOf(record: ThreadRecord): OutMessage[] {
  return record.outbox.map((message) =>
    message.body.kind === "run" && message.body.thread === undefined
      ? { ...message, body: { ...message.body, thread: record.thread, version: record.version } }
      : message,
  );
}

/**
 * A committed step's outbox, to send again (a redelivery whose step is committed, the
 * reconciler, a retried call): its runs read their thread first (`check: "thread"`), and
 * so do the first runs of the branches its fan-out starts (`resent`), so an activity
 * that ran and committed already does not run again.
 */
export function resentOutbox(record: ThreadRecord): OutMessage[] {
  return outboxOf(record).map((m) => {
    if (m.body.kind === "run" && m.body.check !== "thread")
      return { ...m, body: { ...m.body, check: "thread" } };
    if (m.body.kind === "start-branches") return { ...m, body: { ...m.body, resent: true } };
    return m;
  });
}

/** The summary of an ended execution as listed: the root's last step without its data, outbox and history. */
export function summaryOf(step: ThreadRecord): ThreadRecord {
  // The data stays in the step: GET reads the latest step; a list needs the status. The
  // step's usage too: the summary records only what was spent after it.
  const { usage: _usage, ...record } = step;
  return {
    ...record,
    thread: { ...record.thread, data: { inline: null } },
    outbox: [],
    events: [],
  };
}
