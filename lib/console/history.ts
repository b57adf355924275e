/**
 * What an execution's history says, for the graph, the timeline and the inspector:
 * each thread's visits to its states (with their attempts, waits and outcome), each
 * graph node's status, and one timeline lane per thread (big Maps summarised). Pure:
 * history and graph in, views out.
 */
import type { Graph, GraphNode, HistoryEvent, Json, Status, WorkflowError } from "./types.ts";

/** What a state did in one visit, or overall. `idle`: never entered. */
export type NodeStatus = "idle" | "running" | "succeeded" | "failed" | "caught" | "cancelled";

/** A stretch of a visit: running an activity, waiting for a queue, a backoff, or a timer/event/join. */
export interface Segment {
  readonly kind: "queue" | "run" | "backoff" | "wait";
  readonly from: number;
  readonly to: number;
  readonly attempt?: number;
}

export interface Attempt {
  readonly attempt: number;
  readonly scheduledAt: number;
  endedAt?: number;
  input?: Json;
  output?: Json;
  error?: WorkflowError;
  detail?: { readonly [key: string]: Json };
  /** The keys the activity received (the API computes them). */
  keys?: { readonly idempotencyKey: string; readonly stepKey: string };
  /** Whether the Task's result cache answered; absent without a cache. */
  cache?: "hit" | "miss";
}

/** One entry of a thread into a state, to its exit (or now). */
export interface Visit {
  readonly nodeId: string;
  readonly thread: string;
  readonly state: string;
  readonly enteredAt: number;
  exitedAt?: number;
  status: NodeStatus;
  input?: Json;
  output?: Json;
  error?: WorkflowError;
  /** A redrive kept this outcome from the original's thread (it did not run again). */
  keptFrom?: string;
  readonly attempts: Attempt[];
  readonly segments: Segment[];
  readonly events: HistoryEvent[];
}

/** A timeline lane: one thread, or a summary of a big Map's remaining items. */
export type Lane =
  | {
      readonly kind: "thread";
      readonly thread: string;
      readonly label: string;
      readonly depth: number;
      readonly visits: readonly Visit[];
    }
  | {
      readonly kind: "summary";
      readonly join: string;
      readonly label: string;
      readonly depth: number;
      readonly hidden: number;
      readonly counts: Readonly<Record<NodeStatus, number>>;
      readonly from: number;
      readonly to: number;
    };

export interface ExecutionTrace {
  readonly visits: readonly Visit[];
  /** By graph node id: its overall status and how many visits ended each way. */
  readonly nodes: ReadonlyMap<string, { status: NodeStatus; counts: Record<NodeStatus, number> }>;
  readonly lanes: readonly Lane[];
  /** The span the timeline shows, epoch ms. */
  readonly from: number;
  readonly to: number;
}

/** Map items (or branches) of one fan-out shown as lanes; the rest are one summary lane. */
export const MAX_LANES_PER_JOIN = 8;

const THREAD_SEGMENT = /\/([^/@[\]]+)@(\d+)\[(\d+)\]/g;

/** The fan-outs a thread id descends through: `root/P@3[1]` → [{state P, step 3, index 1}]. */
export function threadPath(thread: string): { state: string; step: number; index: number }[] {
  return [...thread.matchAll(THREAD_SEGMENT)].map((m) => ({
    state: m[1] ?? "",
    step: Number(m[2]),
    index: Number(m[3]),
  }));
}

/** The graph id prefix of a thread's states (`""` for the root, `P/Branch/`, `M/`). */
export function threadPrefix(thread: string, byId: ReadonlyMap<string, GraphNode>, graph: Graph) {
  let prefix = "";
  for (const { state, index } of threadPath(thread)) {
    const id = `${prefix}${state}`;
    const node = byId.get(id);
    if (node?.type === "Parallel") {
      const branch = graph.nodes.find((n) => n.parent === id && n.index === index);
      prefix = branch ? `${branch.id}/` : `${id}/`;
    } else prefix = `${id}/`;
  }
  return prefix;
}

/** The join a branch thread reports to: `root/P@3[1]` → `root/P@3`. */
const joinOf = (thread: string): string => thread.replace(/\[\d+\]$/, "");

const emptyCounts = (): Record<NodeStatus, number> => ({
  idle: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  caught: 0,
  cancelled: 0,
});

/**
 * Reads `events` (any order; every thread's) against `graph`. `status` is the
 * execution's; `now` ends what is still running.
 */
export function traceExecution(
  events: readonly HistoryEvent[],
  graph: Graph,
  status: Status,
  now: number,
): ExecutionTrace {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const threads = new Map<string, HistoryEvent[]>();
  for (const event of events) {
    const list = threads.get(event.thread) ?? [];
    if (list.length === 0) threads.set(event.thread, list);
    list.push(event);
  }
  const forkedAt = new Map<string, number>();
  for (const list of threads.values()) {
    list.sort((a, b) => a.seq - b.seq);
    for (const e of list)
      if (e.type === "BranchesStarted" && typeof e.detail?.join === "string")
        forkedAt.set(e.detail.join, Date.parse(e.at));
  }

  const visits: Visit[] = [];
  const threadVisits = new Map<string, Visit[]>();
  let from = Number.POSITIVE_INFINITY;
  let to = 0;
  for (const [thread, list] of threads) {
    const prefix = threadPrefix(thread, byId, graph);
    const mine: Visit[] = [];
    threadVisits.set(thread, mine);
    let open: Visit | undefined;
    let attempt: Attempt | undefined;
    let prev: HistoryEvent | undefined;
    let prevAt = thread === "root" ? undefined : forkedAt.get(joinOf(thread));
    let ended: "failed" | "cancelled" | "succeeded" | undefined;
    for (const e of list) {
      const at = Date.parse(e.at);
      from = Math.min(from, at);
      to = Math.max(to, at);
      if (e.type === "StateEntered" && e.state !== undefined) {
        open = {
          nodeId: `${prefix}${e.state}`,
          thread,
          state: e.state,
          enteredAt: at,
          status: "running",
          ...(e.input === undefined ? {} : { input: e.input }),
          attempts: [],
          segments: [],
          events: [],
        };
        if (prevAt !== undefined && at > prevAt)
          open.segments.push({ kind: "queue", from: prevAt, to: at });
        mine.push(open);
        visits.push(open);
      } else if (open && prev && prevAt !== undefined && at > prevAt) {
        const kind =
          prev.type === "ActivityScheduled"
            ? "run"
            : prev.type === "RetryScheduled"
              ? "backoff"
              : prev.type === "EventAwaited" ||
                  prev.type === "TimerScheduled" ||
                  prev.type === "BranchesStarted"
                ? "wait"
                : "queue";
        open.segments.push({
          kind,
          from: prevAt,
          to: at,
          ...(kind === "run" && prev.attempt !== undefined ? { attempt: prev.attempt } : {}),
        });
      }
      open?.events.push(e);
      switch (e.type) {
        case "ActivityScheduled":
          if (open) {
            attempt = {
              attempt: e.attempt ?? open.attempts.length + 1,
              scheduledAt: at,
              ...(e.input === undefined ? {} : { input: e.input }),
              ...(e.detail === undefined ? {} : { detail: e.detail }),
              ...(e.keys === undefined ? {} : { keys: e.keys }),
            };
            open.attempts.push(attempt);
          }
          break;
        case "ActivitySucceeded":
        case "ActivityFailed":
          if (attempt) {
            attempt.endedAt = at;
            if (e.output !== undefined) attempt.output = e.output;
            if (e.error !== undefined) attempt.error = e.error;
            if (e.detail?.cache === "hit" || e.detail?.cache === "miss")
              attempt.cache = e.detail.cache;
          }
          attempt = undefined;
          if (e.error && open) open.error = e.error;
          break;
        case "ErrorCaught":
          if (open) {
            open.status = "caught";
            if (e.error) open.error = e.error;
            open.exitedAt = at;
            open = undefined;
          }
          break;
        case "StateExited":
          if (open) {
            if (open.status === "running") open.status = "succeeded";
            open.exitedAt = at;
            if (e.output !== undefined) open.output = e.output;
            open = undefined;
          }
          break;
        case "ExecutionFailed":
          ended = "failed";
          if (open && e.error) open.error = e.error;
          break;
        case "ExecutionCancelled":
          ended = "cancelled";
          break;
        case "ExecutionSucceeded":
          ended = "succeeded";
          break;
        case "BranchFinished":
          if (typeof e.detail?.reused === "string" && !open && e.state !== undefined) {
            // A redrive kept this branch's outcome from the original: it ran nothing here.
            const kept: Visit = {
              nodeId: `${prefix}${e.state}`,
              thread,
              state: e.state,
              enteredAt: at,
              exitedAt: at,
              status: "succeeded",
              keptFrom: e.detail.reused,
              attempts: [],
              segments: [],
              events: [e],
            };
            mine.push(kept);
            visits.push(kept);
          }
          ended =
            e.detail?.status === "failed"
              ? "failed"
              : e.detail?.status === "cancelled"
                ? "cancelled"
                : "succeeded";
          if (open && e.error) open.error = e.error;
          break;
      }
      prev = e;
      prevAt = at;
    }
    if (open) {
      // Still open at the thread's last event: it failed there, was cancelled, or runs on.
      open.status =
        ended !== undefined
          ? ended
          : status === "running"
            ? "running"
            : status === "failed" && thread === "root"
              ? "failed"
              : "cancelled";
    }
  }
  if (status === "running") to = Math.max(to, now);
  if (!Number.isFinite(from)) from = now;
  for (const visit of visits) {
    const end = visit.exitedAt ?? (visit.status === "running" ? to : lastAt(visit));
    const last = visit.segments.at(-1);
    if (visit.status === "running" && (!last || last.to < end))
      visit.segments.push({
        kind: visit.attempts.some((a) => a.endedAt === undefined) ? "run" : "wait",
        from: last?.to ?? visit.enteredAt,
        to: end,
      });
  }

  const nodes = new Map<string, { status: NodeStatus; counts: Record<NodeStatus, number> }>();
  for (const node of graph.nodes) nodes.set(node.id, { status: "idle", counts: emptyCounts() });
  for (const visit of visits) {
    const entry = nodes.get(visit.nodeId);
    if (entry) entry.counts[visit.status]++;
  }
  for (const entry of nodes.values()) {
    const c = entry.counts;
    entry.status =
      c.running > 0
        ? "running"
        : c.failed > 0
          ? "failed"
          : c.cancelled > 0
            ? "cancelled"
            : c.caught > 0
              ? "caught"
              : c.succeeded > 0
                ? "succeeded"
                : "idle";
  }
  // A Branch is what its states did.
  for (const node of graph.nodes)
    if (node.type === "Branch") {
      const entry = nodes.get(node.id);
      const children = graph.nodes.filter((n) => n.parent === node.id);
      if (entry)
        for (const child of children) {
          const status = nodes.get(child.id)?.status ?? "idle";
          if (rank(status) > rank(entry.status)) entry.status = status;
        }
    }

  return { visits, nodes, lanes: lanesOf(threadVisits, graph, byId), from, to };
}

function lastAt(visit: Visit): number {
  const last = visit.events.at(-1);
  return last ? Date.parse(last.at) : visit.enteredAt;
}

const RANK: Record<NodeStatus, number> = {
  idle: 0,
  succeeded: 1,
  caught: 2,
  cancelled: 3,
  failed: 4,
  running: 5,
};
const rank = (status: NodeStatus) => RANK[status];

function lanesOf(
  threadVisits: ReadonlyMap<string, Visit[]>,
  graph: Graph,
  byId: ReadonlyMap<string, GraphNode>,
): Lane[] {
  const label = (thread: string): string => {
    if (thread === "root") return "root";
    const parts: string[] = [];
    let prefix = "";
    for (const { state, index } of threadPath(thread)) {
      const id = `${prefix}${state}`;
      const node = byId.get(id);
      if (node?.type === "Parallel") {
        const branch = graph.nodes.find((n) => n.parent === id && n.index === index);
        parts.push(`${state} › ${branch?.name ?? index}`);
        prefix = branch ? `${branch.id}/` : `${id}/`;
      } else {
        parts.push(`${state}[${index}]`);
        prefix = `${id}/`;
      }
    }
    return parts.join(" / ");
  };
  const start = (thread: string) => threadVisits.get(thread)?.[0]?.enteredAt ?? 0;
  const indexOf = (thread: string) => threadPath(thread).at(-1)?.index ?? 0;
  const byJoin = new Map<string, string[]>();
  for (const thread of threadVisits.keys()) {
    if (thread === "root") continue;
    const join = joinOf(thread);
    const list = byJoin.get(join) ?? [];
    if (list.length === 0) byJoin.set(join, list);
    list.push(thread);
  }
  const lanes: Lane[] = [];
  const place = (thread: string, depth: number) => {
    lanes.push({
      kind: "thread",
      thread,
      label: label(thread),
      depth,
      visits: threadVisits.get(thread) ?? [],
    });
    const joins = [...byJoin.keys()]
      .filter((join) => join.slice(0, join.lastIndexOf("/")) === thread)
      .sort((a, b) => start(byJoin.get(a)?.[0] ?? "") - start(byJoin.get(b)?.[0] ?? ""));
    for (const join of joins) {
      const items = (byJoin.get(join) ?? []).sort((a, b) => indexOf(a) - indexOf(b));
      for (const item of items.slice(0, MAX_LANES_PER_JOIN)) place(item, depth + 1);
      const rest = items.slice(MAX_LANES_PER_JOIN);
      if (rest.length === 0) continue;
      const counts = emptyCounts();
      let from = Number.POSITIVE_INFINITY;
      let to = 0;
      for (const thread of rest) {
        const vs = threadVisits.get(thread) ?? [];
        const last = vs.at(-1);
        counts[last?.status ?? "idle"]++;
        for (const v of vs) {
          from = Math.min(from, v.enteredAt);
          to = Math.max(to, v.exitedAt ?? lastAt(v));
        }
      }
      lanes.push({
        kind: "summary",
        join,
        label: `${label(rest[0] ?? join).replace(/\[\d+\]$/, "")}: ${rest.length} more`,
        depth: depth + 1,
        hidden: rest.length,
        counts,
        from: Number.isFinite(from) ? from : 0,
        to,
      });
    }
  };
  if (threadVisits.has("root")) place("root", 0);
  return lanes;
}
