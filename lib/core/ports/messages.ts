/** The messages on the wire, and the thread events whose payloads may be offloaded. */

import type { ItemSource } from "../engine/items.ts";
import type { Resume } from "../engine/resume.ts";
import type {
  CachePolicy,
  FlowRef,
  HistoryEvent,
  JoinOutcome,
  JoinState,
  WorkflowError,
} from "../engine/types.ts";
import type { JsonValue } from "../expr/index.ts";
import type {
  ExecutionHeader,
  JoinRecord,
  ParentSnapshot,
  Stored,
  StoredThread,
} from "./records.ts";

/** Messages on the wire. Every message carries the execution's header. */
export type WireMessage =
  | {
      /** Run an activity for a thread, then apply its outcome; carries the thread so the happy path reads nothing. */
      readonly kind: "run";
      readonly header: ExecutionHeader;
      /** Absent only in a record's stored outbox, where the record itself holds it. */
      readonly thread?: StoredThread;
      readonly version: number;
      readonly input: Stored;
      readonly activity: string;
      readonly token: { readonly thread: string; readonly step: number; readonly attempt: number };
      readonly state: string;
      readonly idempotencyKey: string;
      readonly timeoutMs?: number;
      readonly heartbeatMs?: number;
      /** The Task's `cache` policy, its key evaluated. */
      readonly cache?: CachePolicy;
      /**
       * The history of a branch's start, which has no step of its own yet: written with
       * the branch's first step (the run's commit).
       */
      readonly events?: readonly HistoryEvent[];
      /**
       * What to read before running queued work that may no longer be wanted: every run
       * checks the execution's cancel request (`cancel`); a retry that waited and a
       * branch its join may drop (ANY/AT_LEAST) also read their thread (`thread`).
       */
      readonly check?: RunCheck;
    }
  | {
      /** Apply one event to one thread (timers, worker results, cancellation, external events, joins). */
      readonly kind: "event";
      readonly header: ExecutionHeader;
      readonly thread: string;
      readonly event: StoredEvent;
    }
  | {
      /** Start branch or item `index` of a join. */
      readonly kind: "branch";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly index: number;
      readonly flow: FlowRef;
      readonly input: Stored;
      /** Set for a Map item: its index (the item is the input). */
      readonly mapIndex?: number;
      /** What the branch's first run reads before it starts (see `run`). */
      readonly check?: RunCheck;
      /** A redrive's branch on its path: where it starts, with what (`Resume.on`). */
      readonly from?: NonNullable<Resume["on"]>;
      /** A redrive's other branch: the original's thread, whose success it keeps. */
      readonly reuse?: { readonly of: string; readonly thread: string };
    }
  | {
      readonly kind: "finished";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly index: number;
      readonly status: "succeeded" | "failed" | "cancelled";
      readonly error?: WorkflowError;
      /** A small output of a Parallel branch, kept in the join (no read of the branch at the end). */
      readonly output?: JsonValue;
      /** Applied at once, not with the batch's other reports (ANY and AT_LEAST continue early). */
      readonly eager?: true;
      /** The branch's last step (a wide join's fan-in reads it by key). */
      readonly step?: number;
    }
  | {
      readonly kind: "cancel-join";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      /**
       * A page of a closed join's cancel: the branches still running past this index
       * are cancelled, a page at a time (absent: cancel the open join itself).
       */
      readonly after?: number;
      /** A page of a closed wide join's cancel: its shards from this one on (see `WideJoin`). */
      readonly shard?: number;
    }
  | {
      /** A page of a wide join's fan-in: the outputs of its shards from `page` × `SHARDS_PER_PAGE` on. */
      readonly kind: "collect-join";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly page: number;
      /** With a result writer: what the pages before this one wrote. */
      readonly written?: { readonly succeeded: number; readonly failed: number };
    }
  | {
      /** A page of a Map's `item_reader` object, read into a page of the payload store. */
      readonly kind: "read-items";
      readonly header: ExecutionHeader;
      readonly token: { readonly thread: string; readonly step: number };
      readonly source: ItemSource;
      readonly page: number;
      /** Where the page starts reading (`START_CURSOR` for the first). */
      readonly cursor: JsonValue;
      /** The first item index of each page read before this one. */
      readonly starts: readonly number[];
    }
  | {
      /** The branches a fan-out started, as kept in the thread's stored outbox; rebuilt from the join. */
      readonly kind: "start-branches";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly indexes: readonly number[];
      /** And the branches `from` (inclusive) to `to` (exclusive): started a page at a time. */
      readonly range?: { readonly from: number; readonly to: number };
      /** The join as the fan-out created it: a re-send creates it if the first send stopped before. */
      readonly create?: {
        readonly join: JoinState;
        readonly inputs: Stored;
        readonly wide?: JoinRecord["wide"];
      };
      /**
       * Sent again (a stored outbox, set as it is re-sent; the reconciler), not by the
       * fan-out itself: each branch it starts reads its thread before its first run
       * (`check: "thread"`), so a branch that ran already is not run again.
       */
      readonly resent?: boolean;
    }
  | {
      /** A thread started waiting for an event: deliver one that arrived early, if any. */
      readonly kind: "take-event";
      readonly header: ExecutionHeader;
      readonly thread: string;
      readonly event: string;
    }
  | {
      readonly kind: "join-complete";
      readonly header: ExecutionHeader;
      readonly joinId: string;
      readonly parent: { readonly thread: string; readonly step: number };
      readonly outcome: JoinOutcome;
      /** The waiting thread as the join last knew it: continuing it needs no read when still current. */
      readonly parentSnapshot?: ParentSnapshot;
      /**
       * Sent by the report whose write closed the join (not re-derived by a redelivered
       * one): no continuation of the parent can have been committed yet.
       */
      readonly fresh?: true;
    }
  | {
      /** A dedicated worker's job: run the activity, send the outcome back as an `event`. */
      readonly kind: "work";
      readonly header: ExecutionHeader;
      readonly input: Stored;
      readonly activity: string;
      readonly token: { readonly thread: string; readonly step: number; readonly attempt: number };
      readonly state: string;
      readonly idempotencyKey: string;
      readonly timeoutMs?: number;
      readonly heartbeatMs?: number;
      readonly cache?: CachePolicy;
    };

/** See the `run` message's `check`. */
export type RunCheck = "cancel" | "thread";

/** A thread event whose payload (activity output, event payload) may be offloaded. */
export type StoredEvent =
  | {
      readonly type: "ActivitySucceeded";
      readonly token: { thread: string; step: number; attempt: number };
      readonly output: Stored;
      readonly cache?: "hit" | "miss";
    }
  | {
      readonly type: "ActivityFailed";
      readonly token: { thread: string; step: number; attempt: number };
      readonly error: WorkflowError;
      readonly cache?: "miss";
    }
  | {
      readonly type: "ActivityHeartbeat";
      readonly token: { thread: string; step: number; attempt: number };
    }
  | {
      readonly type: "TimerFired";
      readonly token: { thread: string; step: number; attempt?: number };
      readonly purpose: "wait" | "timeout" | "heartbeat" | "event-timeout" | "workflow-timeout";
      readonly seq?: number;
    }
  | { readonly type: "EventReceived"; readonly event: string; readonly payload: Stored }
  | { readonly type: "CancelRequested"; readonly reason: string }
  | { readonly type: "Aborted"; readonly error: WorkflowError };
