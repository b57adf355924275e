/**
 * An in-memory driver of the engine for golden and property tests: it carries
 * out commands as the runtime will (threads and joins as records, timers and
 * activities as messages in virtual time), with scripted activity outcomes, and
 * can duplicate, delay and reorder messages from a seed.
 */
import type { Definition } from "../../lib/core/cdl/index.ts";
import {
  applyBranchFinished,
  applyThreadEvent,
  type BranchFinished,
  type BranchInputs,
  type BranchResult,
  branchSpecFor,
  branchThreadId,
  type Command,
  cancelJoin,
  type ExecutionContext,
  type HistoryEvent,
  type JoinState,
  nextRandom,
  ROOT_THREAD,
  startBranch,
  startExecution,
  type ThreadEvent,
  type ThreadState,
  type ThreadStep,
  type WorkflowError,
} from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";

/** What an activity does on one attempt. */
export type Outcome =
  | { readonly ok: JsonValue; readonly after?: number }
  | { readonly error: WorkflowError; readonly after?: number }
  | { readonly hang: true };

/** Per activity: outcomes by attempt (the last repeats), or a function of input and attempt. */
export type Script = Readonly<
  Record<string, readonly Outcome[] | ((input: JsonValue, attempt: number) => Outcome)>
>;

export interface SimulationOptions {
  readonly script: Script;
  /** Epoch ms the execution starts at. */
  readonly start?: number;
  readonly executionId?: string;
  /** External events, delivered at the given offsets from the start. */
  readonly events?: readonly {
    readonly at: number;
    readonly event: string;
    readonly payload: JsonValue;
  }[];
  /** Cancel the execution at this offset from the start. */
  readonly cancelAt?: number;
  /** Seed for chaos: with it, messages are reordered within `maxDelay` and some are duplicated. */
  readonly chaos?: { readonly seed: number; readonly duplicate: number; readonly maxDelay: number };
  /** Default activity latency in ms. */
  readonly latency?: number;
  /** Stop after this many messages (a runaway guard). */
  readonly maxMessages?: number;
}

export interface SimulationResult {
  readonly status: "succeeded" | "failed" | "cancelled" | "running";
  readonly output?: JsonValue;
  readonly error?: WorkflowError;
  /** How many terminal commands the execution produced (must be exactly 1). */
  readonly endings: number;
  readonly history: readonly HistoryEvent[];
  /** Every activity call: activity, idempotency key, attempt. */
  readonly calls: readonly { activity: string; key: string; attempt: number; input: JsonValue }[];
  readonly endedAt: number;
  readonly messages: number;
  readonly threads: ReadonlyMap<string, ThreadState>;
}

type Message =
  | { kind: "event"; thread: string; event: ThreadEvent }
  | { kind: "start-branch"; joinId: string; index: number }
  | { kind: "branch-finished"; finished: BranchFinished }
  | { kind: "run"; command: Extract<Command, { type: "RunActivity" }> }
  | { kind: "complete-join"; command: Extract<Command, { type: "CompleteJoin" }> }
  | { kind: "cancel-join"; joinId: string }
  | { kind: "external"; event: string; payload: JsonValue }
  | { kind: "cancel" };

interface Queued {
  at: number;
  seq: number;
  message: Message;
}

interface JoinRecord {
  join: JoinState;
  inputs: BranchInputs;
}

/** Runs one execution to its end (or to `maxMessages`). */
export function simulate(
  definition: Definition,
  input: JsonValue,
  options: SimulationOptions,
): SimulationResult {
  const start = options.start ?? Date.UTC(2026, 0, 1);
  const context: ExecutionContext = {
    executionId: options.executionId ?? "exec-1",
    workflowName: definition.name,
    input,
    startTime: start,
  };
  const latency = options.latency ?? 10;
  const threads = new Map<string, ThreadState>();
  const joins = new Map<string, JoinRecord>();
  const history: HistoryEvent[] = [];
  const calls: { activity: string; key: string; attempt: number; input: JsonValue }[] = [];
  const buffered: { event: string; payload: JsonValue }[] = [];
  const queue: Queued[] = [];
  let seq = 0;
  let rng = options.chaos?.seed ?? 0;
  let now = start;
  let endings = 0;
  let result: Pick<SimulationResult, "status" | "output" | "error"> = { status: "running" };

  const random = (): number => {
    const draw = nextRandom(rng);
    rng = draw.state;
    return draw.value;
  };
  const push = (at: number, message: Message): void => {
    const chaos = options.chaos;
    const delay = chaos ? Math.floor(random() * chaos.maxDelay) : 0;
    queue.push({ at: Math.max(at, now) + delay, seq: seq++, message });
    if (chaos && random() < chaos.duplicate) {
      queue.push({
        at: Math.max(at, now) + Math.floor(random() * chaos.maxDelay),
        seq: seq++,
        message,
      });
    }
  };

  const carryOut = (commands: readonly Command[]): void => {
    for (const command of commands) {
      switch (command.type) {
        case "RecordHistory":
          history.push(...command.events);
          break;
        case "EmitMetric":
          break;
        case "RunActivity":
          push(command.notBefore ?? now, { kind: "run", command });
          break;
        case "ScheduleTimer":
          push(command.at, {
            kind: "event",
            thread: command.token.thread,
            event: {
              type: "TimerFired",
              token: command.token,
              purpose: command.purpose,
              ...(command.seq === undefined ? {} : { seq: command.seq }),
            },
          });
          break;
        case "AwaitEvent": {
          const index = buffered.findIndex((b) => b.event === command.event);
          const event = index >= 0 ? buffered.splice(index, 1)[0] : undefined;
          if (event) {
            push(now, {
              kind: "event",
              thread: command.token.thread,
              event: {
                type: "EventReceived",
                event: event.event,
                payload: event.payload,
                token: command.token,
              },
            });
          }
          break;
        }
        case "StartJoin":
          if (!joins.has(command.join.id))
            joins.set(command.join.id, { join: command.join, inputs: command.inputs });
          break;
        case "StartBranches":
          for (const index of command.indexes)
            push(now, { kind: "start-branch", joinId: command.joinId, index });
          break;
        case "CancelBranches":
          for (const index of command.indexes) {
            push(now, {
              kind: "event",
              thread: branchThreadId(command.joinId, index),
              event: { type: "CancelRequested", reason: "the join no longer needs this branch" },
            });
          }
          break;
        case "CancelJoin":
          push(now, { kind: "cancel-join", joinId: command.joinId });
          break;
        case "CompleteJoin":
          push(now, { kind: "complete-join", command });
          break;
        case "FinishBranch":
          push(now, { kind: "branch-finished", finished: command.branch });
          break;
        case "CancelActivity":
          break;
        case "CompleteExecution":
          endings++;
          result = { status: "succeeded", output: command.output };
          break;
        case "FailExecution":
          endings++;
          result = { status: "failed", error: command.error };
          break;
        case "CancelExecution":
          endings++;
          result = {
            status: "cancelled",
            error: { name: "Cascade.Cancelled", message: command.reason },
          };
          break;
        case "ReadItems":
          throw new Error("the engine simulation reads no item_reader objects");
        default: {
          const unreachable: never = command;
          throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
        }
      }
    }
  };

  const applyStep = (step: ThreadStep): void => {
    if (!step.changed) return;
    threads.set(step.thread.id, step.thread);
    carryOut(step.commands);
  };

  const outcomeFor = (activity: string, activityInput: JsonValue, attempt: number): Outcome => {
    const entry = options.script[activity];
    if (entry === undefined) return { ok: { activity, input: activityInput } };
    if (typeof entry === "function") return entry(activityInput, attempt);
    return entry[Math.min(attempt, entry.length) - 1] ?? { ok: null };
  };

  applyStep(startExecution(definition, context, now));
  for (const event of options.events ?? []) push(start + event.at, { kind: "external", ...event });
  if (options.cancelAt !== undefined) push(start + options.cancelAt, { kind: "cancel" });

  let messages = 0;
  const limit = options.maxMessages ?? 100_000;
  while (queue.length > 0 && messages < limit) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = queue.shift();
    if (!next) break;
    messages++;
    now = Math.max(now, next.at);
    const message = next.message;
    switch (message.kind) {
      case "event": {
        const thread = threads.get(message.thread);
        if (thread) applyStep(applyThreadEvent(definition, context, thread, message.event, now));
        break;
      }
      case "external": {
        // Like the runtime: to one waiting thread (the first by id), else kept until one waits.
        const waiting = [...threads.values()]
          .filter(
            (t) =>
              t.status === "running" &&
              t.waiting?.kind === "event" &&
              t.waiting.event === message.event,
          )
          .sort((a, b) => (a.id < b.id ? -1 : 1))[0];
        if (!waiting) {
          buffered.push({ event: message.event, payload: message.payload });
          break;
        }
        applyStep(
          applyThreadEvent(
            definition,
            context,
            waiting,
            {
              type: "EventReceived",
              event: message.event,
              payload: message.payload,
              token: { thread: waiting.id, step: waiting.step },
            },
            now,
          ),
        );
        break;
      }
      case "cancel": {
        const root = threads.get(ROOT_THREAD);
        if (root)
          applyStep(
            applyThreadEvent(
              definition,
              context,
              root,
              { type: "CancelRequested", reason: "cancelled by the test" },
              now,
            ),
          );
        break;
      }
      case "start-branch": {
        const record = joins.get(message.joinId);
        if (record?.join.status !== "open") break;
        const spec = branchSpecFor(record.join, record.inputs, message.index);
        if (threads.has(spec.id)) break;
        applyStep(startBranch(definition, context, spec, now));
        break;
      }
      case "branch-finished": {
        const record = joins.get(message.finished.joinId);
        if (!record) break;
        const step = applyBranchFinished(record.join, message.finished);
        if (step.changed) {
          record.join = step.join;
          carryOut(step.commands);
        }
        break;
      }
      case "cancel-join": {
        const record = joins.get(message.joinId);
        if (!record) break;
        const step = cancelJoin(record.join);
        if (step.changed) {
          record.join = step.join;
          carryOut(step.commands);
        }
        break;
      }
      case "complete-join": {
        const { command } = message;
        const branches: BranchResult[] =
          command.outcome.status === "succeeded"
            ? command.outcome.branches.map((b) => {
                const thread = threads.get(branchThreadId(command.joinId, b.index));
                return b.status === "succeeded" && thread ? { ...b, output: thread.data } : b;
              })
            : [];
        const outcome =
          command.outcome.status === "succeeded"
            ? { status: "succeeded" as const, branches }
            : command.outcome;
        push(now, {
          kind: "event",
          thread: command.parent.thread,
          event: { type: "JoinCompleted", token: command.parent, outcome },
        });
        break;
      }
      case "run": {
        const { command } = message;
        calls.push({
          activity: command.activity,
          key: command.idempotencyKey,
          attempt: command.token.attempt,
          input: command.input,
        });
        const outcome = outcomeFor(command.activity, command.input, command.token.attempt);
        if ("hang" in outcome) break;
        const at = now + (outcome.after ?? latency);
        const event: ThreadEvent =
          "ok" in outcome
            ? { type: "ActivitySucceeded", token: command.token, output: outcome.ok }
            : { type: "ActivityFailed", token: command.token, error: outcome.error };
        push(at, { kind: "event", thread: command.token.thread, event });
        break;
      }
      default: {
        const unreachable: never = message;
        throw new Error(`unknown message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  return { ...result, endings, history, calls, endedAt: now, messages, threads };
}
