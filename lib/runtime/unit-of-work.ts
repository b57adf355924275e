/**
 * The unit of work of one invocation: an SQS batch (or one HTTP call) as a whole.
 * Messages it causes are sent together at the end, before any record is deleted;
 * follow-ups bound for this same function are processed here instead, in a work loop
 * per received message (so a failure is charged to the message that caused it).
 */
import type { JoinState, JoinStep, WorkflowError } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  ExecutionHeader,
  ExecutionStore,
  OutMessage,
  ThreadRecord,
  WireMessage,
} from "../core/ports.ts";
import { TRANSITIONS_QUEUE } from "../manifest/index.ts";
import { RuntimeError } from "./errors.ts";

/**
 * Follow-ups (branch starts, reports, cancels, timers due) one invocation processes
 * itself before it sends the rest to the queue: enough for a workflow's control flow
 * to run without hops, few enough that no invocation does work proportional to the
 * width of a fan-out (DESIGN.md section 9).
 */
export const INLINE_FOLLOW_UPS_PER_INVOCATION = 64;

/** The queue name of transitions; worker pools are `worker:<pool>` (lib/manifest/queues.ts). */
export const TRANSITIONS = TRANSITIONS_QUEUE;

/** A message to send, with the received message whose work caused it (its `messageKey`). */
export interface Outgoing {
  readonly message: OutMessage;
  readonly source: string;
}

/** A branch's report to its join, waiting to be applied with the batch's other reports. */
export interface JoinReport {
  readonly mid: string;
  /** The received message whose work produced the report: its id, and its `messageKey`. */
  readonly cause: string;
  readonly source: string;
  /** False for a first delivery from the queue (see Work.mayResend). */
  readonly rederive: boolean;
  readonly output: { index: number; value: JsonValue } | undefined;
  readonly apply: (join: JoinState) => JoinStep;
  /** What a wide join (which keeps no `JoinState` lists) counts instead of `apply`. */
  readonly wide: WideInputOf;
}

/** A report as a wide join takes it: an item's end, or the join's cancel. */
export type WideInputOf =
  | {
      readonly item: {
        readonly index: number;
        readonly status: "succeeded" | "failed" | "cancelled";
        readonly step: number;
        readonly error?: WorkflowError;
      };
    }
  | { readonly cancel: true };

export interface PendingJoin {
  readonly header: ExecutionHeader;
  readonly joinId: string;
  readonly reports: JoinReport[];
}

/** What an invocation still has to do when its messages are handled. */
export class Batch {
  readonly outgoing: Outgoing[] = [];
  /** Transition latencies of the messages handled (ms), reported once. */
  readonly latencies: number[] = [];
  /**
   * Executions that ended, their summaries written after every message is sent: until
   * then the summary says running, so a crash before the end's work is done leaves the
   * execution to the reconciler, which finishes it.
   */
  readonly ended = new Map<string, ThreadRecord>();
  /** Reports to each join, applied together in one write per join (batches only). */
  readonly joins: Map<string, PendingJoin> | undefined;
  readonly #cancels = new Map<string, { at: number; check: Promise<string | undefined> }>();
  /**
   * Follow-ups this invocation may still process itself; the rest are sent, for other
   * invocations to share (a wide fan-out or cancel does not run in one function).
   */
  inlineLeft = INLINE_FOLLOW_UPS_PER_INVOCATION;

  /** Fired when the invocation is killed (its function timed out): it must commit nothing more. */
  readonly signal: AbortSignal | undefined;

  /** @param collectJoins true for an SQS batch: reports wait for `finish`. */
  constructor(collectJoins: boolean, signal?: AbortSignal) {
    this.joins = collectJoins ? new Map() : undefined;
    this.signal = signal;
  }

  /** @throws RuntimeError STOPPED once the invocation was killed: a killed Lambda writes nothing. */
  checkAlive(): void {
    if (this.signal?.aborted)
      throw new RuntimeError("STOPPED", "the invocation ran past its function's timeout");
  }

  /**
   * Whether the execution has a cancel request: read once per batch and execution, and
   * again before a run that starts more than `CANCEL_CHECK_MAX_AGE_MS` after the last
   * read (a batch's runs follow one another, so a late one must not miss a cancel that
   * committed while the earlier ones ran).
   */
  cancelRequested(
    store: ExecutionStore,
    header: ExecutionHeader,
    now: number,
  ): Promise<string | undefined> {
    const key = `${header.tenant}\u0000${header.executionId}`;
    const cached = this.#cancels.get(key);
    if (cached && now - cached.at <= CANCEL_CHECK_MAX_AGE_MS) return cached.check;
    const check = store.cancelRequested(header);
    this.#cancels.set(key, { at: now, check });
    return check;
  }

  /** Records an execution's end, to write its summary once the batch's messages are sent. */
  end(record: ThreadRecord): void {
    this.ended.set(`${record.header.tenant}\u0000${record.header.executionId}`, record);
  }
}

/** How old a batch's read of an execution's cancel request may be when a run starts, in ms. */
export const CANCEL_CHECK_MAX_AGE_MS = 200;

/** The work of one received message: its inline follow-ups wait here until processed. */
export class Work {
  readonly batch: Batch;
  /** The received message's id: steps its follow-ups commit name it as their origin. */
  readonly cause: string;
  /** The received message's `messageKey`: what a failure of this work is charged to. */
  readonly source: string;
  readonly #inline: boolean;
  readonly #now: () => number;
  readonly #pending: { mid: string; body: WireMessage }[] = [];
  /**
   * True while the message being processed is a first delivery from the queue: when its
   * step turns out to be committed already, the copy that committed it is alive or its
   * own redelivery will re-send, so this copy sends nothing (duplicates do not multiply).
   */
  firstDelivery = false;

  /** Whether finding a message's steps committed should re-send what they caused. */
  get mayResend(): boolean {
    return !this.firstDelivery;
  }

  constructor(batch: Batch, cause: string, source: string, inline: boolean, now: () => number) {
    this.batch = batch;
    this.cause = cause;
    this.source = source;
    this.#inline = inline;
    this.#now = now;
  }

  /**
   * Sends messages; with `inline`, those bound for the transition queue with no delay
   * (other than activity runs, which get a function invocation of their own) wait here
   * to be processed by this invocation's work loop instead.
   */
  dispatch(outbox: readonly OutMessage[]): void {
    const now = this.#now();
    for (const message of outbox) {
      const due = message.notBefore === undefined || message.notBefore <= now;
      if (
        this.#inline &&
        message.queue === TRANSITIONS &&
        due &&
        message.body.kind !== "run" &&
        this.batch.inlineLeft > 0
      ) {
        this.batch.inlineLeft--;
        this.#pending.push({ mid: message.mid, body: message.body });
      } else this.batch.outgoing.push({ message, source: this.source });
    }
  }

  /** The next follow-up to process here, in the order they were caused. */
  take(): { mid: string; body: WireMessage } | undefined {
    return this.#pending.shift();
  }
}
