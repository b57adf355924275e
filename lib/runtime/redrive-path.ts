/**
 * Redrive from inside a fan-out: which thread of the original holds the state, what
 * each thread on the way down entered its next state with, and the `Resume` chain the
 * new execution's fan-outs follow (see lib/core/engine/resume.ts).
 */
import {
  type PathLevel,
  type Resume,
  ROOT_THREAD,
  type ThreadLevel,
  threadPath,
} from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionView } from "../core/ports.ts";
import type { StoredHistoryEvent } from "./budget.ts";
import type { PayloadOwner } from "./codec.ts";
import type { RuntimeContext } from "./context.ts";
import { loadEvents } from "./queries.ts";
import { RedriveError } from "./redrive-error.ts";

/** History events scanned for the threads that entered a state, when none is named. */
export const THREAD_SCAN_EVENTS = 10_000;
/** A thread's latest steps read for the data it entered a state with. */
const THREAD_STEPS = 1_000;
/** Threads named in a `THREAD_REQUIRED` refusal. */
const LISTED_THREADS = 5;
/** Candidate threads whose outcome is read to pick the one that did not succeed. */
const CHECKED_THREADS = 20;

/** Where the new execution starts (a root-level fan-out) and how its fan-outs re-run. */
export interface BranchStart {
  readonly state: string;
  readonly data: JsonValue;
  readonly resume: Resume;
  /** The original's thread that holds the state asked for. */
  readonly thread: string;
}

/**
 * Plans a redrive from `state`, which `path` (non-empty) puts inside fan-outs.
 * `owner` is the new execution: the data its fan-outs start branches with is stored
 * under its payload prefix.
 * @throws RedriveError STATE_IN_BRANCH (a Map that reads its items from an object is on
 *   the path), UNKNOWN_THREAD, THREAD_REQUIRED, STATE_NOT_ENTERED
 */
export async function planBranchStart(
  rt: RuntimeContext,
  view: ExecutionView,
  state: string,
  path: readonly PathLevel[],
  request: { readonly thread?: string; readonly input?: JsonValue },
  owner: PayloadOwner,
): Promise<BranchStart> {
  const reader = path.find((level) => level.reader);
  if (reader)
    throw new RedriveError(
      "STATE_IN_BRANCH",
      `state '${state}' is inside Map '${reader.state}', which reads its items from an object: redrive from '${reader.state}' (or a state before it)`,
    );
  const id = view.header.executionId;
  const thread = request.thread ?? (await findThread(rt, view, state, path));
  const levels = threadPath(thread, path);
  if (!levels)
    throw new RedriveError(
      "UNKNOWN_THREAD",
      `'${thread.slice(0, 200)}' is not a thread that holds state '${state}' (such threads look like ${example(path)})`,
    );
  // Each thread on the path, from the root: what it entered the next state with.
  const threads = [ROOT_THREAD, ...levels.map((l) => l.thread)];
  const entries: JsonValue[] = [];
  for (let i = 0; i < threads.length; i++) {
    const next = levels[i];
    const name = next === undefined ? state : (path[i] as PathLevel).state;
    const data = await enteredIn(rt, view, threads[i] as string, name, next?.step);
    if (data === NOT_ENTERED)
      throw new RedriveError(
        "STATE_NOT_ENTERED",
        `thread '${threads[i]}' of execution '${id}' never entered state '${name}': redrive from a state it entered`,
      );
    entries.push(data);
  }
  let resume: Resume | undefined;
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i] as ThreadLevel;
    const last = i === levels.length - 1;
    const data =
      last && request.input !== undefined ? request.input : (entries[i + 1] as JsonValue);
    resume = {
      of: id,
      join: level.join,
      on: {
        index: level.index,
        state: last ? state : (path[i + 1] as PathLevel).state,
        // Offloaded past 1 KB: it rides in the branch message and the join record.
        data: (await rt.codec.store(data, owner, true)) as unknown as JsonValue,
        ...(resume ? { next: resume } : {}),
      },
    };
  }
  return {
    state: (path[0] as PathLevel).state,
    data: entries[0] as JsonValue,
    resume: resume as Resume,
    thread,
  };
}

/**
 * The original's join for a root-level fan-out the root last entered (a redrive from it
 * re-runs only the branches that did not succeed), or undefined when it never did.
 */
export async function rootJoin(
  rt: RuntimeContext,
  view: ExecutionView,
  state: string,
): Promise<string | undefined> {
  const events = await threadEvents(rt, view, ROOT_THREAD);
  const entry = events.findLast((e) => e.type === "StateEntered" && e.state === state);
  return entry === undefined ? undefined : `${ROOT_THREAD}/${state}@${entry.step}`;
}

const NOT_ENTERED = Symbol("not entered");

/** What `thread` entered `state` with: at `step` when given, else the last time. */
async function enteredIn(
  rt: RuntimeContext,
  view: ExecutionView,
  thread: string,
  state: string,
  step: number | undefined,
): Promise<JsonValue | typeof NOT_ENTERED> {
  const events = await threadEvents(rt, view, thread);
  const entry = events.findLast(
    (e) =>
      e.type === "StateEntered" && e.state === state && (step === undefined || e.step === step),
  );
  return entry === undefined ? NOT_ENTERED : (entry.input ?? null);
}

/** A thread's history over its latest steps, oldest first, offloaded values read back. */
async function threadEvents(rt: RuntimeContext, view: ExecutionView, thread: string) {
  const steps = await rt.store.recentSteps(view.header, thread, THREAD_STEPS);
  const stored = steps.reverse().flatMap((s) => s.events as readonly StoredHistoryEvent[]);
  return loadEvents(rt.codec, view.header, stored);
}

/**
 * The thread to redrive from when none is named: the only one that entered `state`, or
 * the only one of those that did not succeed.
 * @throws RedriveError STATE_NOT_ENTERED, THREAD_REQUIRED
 */
async function findThread(
  rt: RuntimeContext,
  view: ExecutionView,
  state: string,
  path: readonly PathLevel[],
): Promise<string> {
  const { tenant, executionId } = view.header;
  const found = new Set<string>();
  let scanned = 0;
  let cursor: string | undefined;
  do {
    const page = await rt.store.readHistory(tenant, executionId, 1_000, cursor);
    for (const e of page.items)
      if (e.type === "StateEntered" && e.state === state && threadPath(e.thread, path))
        found.add(e.thread);
    scanned += page.items.length;
    cursor = page.cursor;
  } while (cursor !== undefined && scanned < THREAD_SCAN_EVENTS);
  const complete = cursor === undefined;
  const candidates = [...found];
  if (candidates.length === 1 && complete) return candidates[0] as string;
  if (candidates.length === 0 && complete)
    throw new RedriveError(
      "STATE_NOT_ENTERED",
      `execution '${executionId}' never entered state '${state}': redrive from a state it entered`,
    );
  const unsucceeded: string[] = [];
  for (const thread of candidates.slice(0, CHECKED_THREADS)) {
    const record = await rt.store.getThread(view.header, thread);
    if (record?.thread.status !== "succeeded") unsucceeded.push(thread);
  }
  if (unsucceeded.length === 1 && complete && candidates.length <= CHECKED_THREADS)
    return unsucceeded[0] as string;
  const named = (unsucceeded.length > 0 ? unsucceeded : candidates).slice(0, LISTED_THREADS);
  throw new RedriveError(
    "THREAD_REQUIRED",
    `${complete ? candidates.length : `at least ${candidates.length}`} threads of execution '${executionId}' entered state '${state}': say which to redrive from (thread), e.g. ${named.map((t) => `'${t}'`).join(", ")}`,
  );
}

function example(path: readonly PathLevel[]): string {
  return `root${path.map((l) => `/${l.state}@<step>[${l.kind === "parallel" ? l.branch : "<item>"}]`).join("")}`;
}
