/**
 * Fan-out and join as a thread sees them: a Parallel or Map state starts its branches
 * (a Map whose items are in an object first waits for the runtime to read them, a page
 * at a time), the thread waits for the join, and the join's completion merges the
 * branches' results into its data. The join itself is `join.ts`.
 */
import type { Flow, MapState, ParallelState, State } from "../cdl/index.ts";
import { ExpressionError, getPath, type JsonValue, setPath } from "../expr/index.ts";
import { EngineError } from "./flow.ts";
import { type ResultLocation, resolveItemSource, resolveResultLocation } from "./items.ts";
import type { Resume } from "./resume.ts";
import type { Run } from "./step.ts";
import {
  type BranchInputs,
  type BranchResult,
  ERRORS,
  type FlowRef,
  type JoinState,
  type ThreadEvent,
  type ThreadStep,
} from "./types.ts";

/** How a branch or iteration thread starts. */
export interface BranchSpec {
  readonly id: string;
  readonly flow: FlowRef;
  readonly parent: { readonly joinId: string; readonly index: number };
  readonly input: JsonValue;
  readonly map?: { readonly index: number; readonly item: JsonValue };
  /** A redrive's branch on its path: it starts at this state, with this data. */
  readonly from?: { readonly state: string; readonly data: JsonValue; readonly resume?: Resume };
  /** A redrive's branch that succeeded in the original: it ends at once with its output. */
  readonly reused?: { readonly state: string; readonly output: JsonValue; readonly thread: string };
}

/** The id of a join: the thread, the fan-out state and the step that entered it. */
export function joinIdFor(thread: string, state: string, step: number): string {
  return `${thread}/${state}@${step}`;
}

/** The id of the thread that runs branch or item `index` of a join. */
/** `BranchesJoined` lists the succeeded branches up to this many, else counts them. */
export const MAX_LISTED_BRANCHES = 256;

export function branchThreadId(joinId: string, index: number): string {
  return `${joinId}[${index}]`;
}

/** How item `index` of a Map starts, given the item (read from its page). */
export function mapItemSpec(join: JoinState, index: number, item: JsonValue): BranchSpec {
  return {
    id: branchThreadId(join.id, index),
    flow: [...join.parentFlow, { state: join.state }],
    parent: { joinId: join.id, index },
    input: item,
    map: { index, item },
  };
}

/** How branch or item `index` of a join starts: its thread id, flow, input and parent. */
export function branchSpecFor(join: JoinState, inputs: BranchInputs, index: number): BranchSpec {
  const id = branchThreadId(join.id, index);
  const parent = { joinId: join.id, index };
  if (inputs.kind === "pages")
    throw new EngineError(`the item of a paged Map is read by the runtime (mapItemSpec)`);
  if (inputs.kind === "items") {
    const item = inputs.items[index] ?? null;
    return {
      id,
      flow: [...join.parentFlow, { state: join.state }],
      parent,
      input: item,
      map: { index, item },
    };
  }
  return {
    id,
    flow: [...join.parentFlow, { state: join.state, branch: index }],
    parent,
    input: inputs.value,
    ...(join.parentMap ? { map: join.parentMap } : {}),
  };
}

/** Runs a Map state: fans out over its items, or asks the runtime to read them from an object first. */
export function runMap(run: Run, flow: Flow, state: MapState): void {
  if (state.itemReader) {
    // The runtime reads the object a page at a time; `ItemsRead` fans out.
    const source = resolveItemSource(state.itemReader, run.evaluation(), state.name);
    if (!source.ok) return run.fail(flow, state, source.error);
    run.thread = { ...run.thread, waiting: { kind: "items" } };
    run.commands.push({
      type: "ReadItems",
      token: { thread: run.thread.id, step: run.thread.step },
      source: source.value,
    });
    return;
  }
  const items = run.evaluate({ value: state.items });
  if (!items.ok) return run.fail(flow, state, items.error);
  if (!Array.isArray(items.value)) {
    return run.fail(flow, state, {
      name: ERRORS.EXPRESSION_ERROR,
      message: `${state.name}: items gave ${describe(items.value)}, not a list`,
    });
  }
  if (items.value.length === 0) return run.afterValue(flow, state, state.result, []);
  const writer = writerOf(run, flow, state);
  if (writer === false) return;
  return fanOut(run, state, { kind: "items", items: items.value }, items.value.length, writer);
}

/** A Map's items were read (`ItemsRead`): fans out over their pages, or fails the state. */
export function onItemsRead(
  run: Run,
  flow: Flow,
  state: State,
  event: Extract<ThreadEvent, { type: "ItemsRead" }>,
  unchanged: ThreadStep,
): ThreadStep {
  const waiting = run.thread.waiting;
  const current = event.token.thread === run.thread.id && event.token.step === run.thread.step;
  if (!current || waiting?.kind !== "items" || state.type !== "Map") return unchanged;
  if (event.error || !event.pages) {
    run.fail(flow, state, event.error ?? { name: ERRORS.ITEM_READER_FAILED, message: "no items" });
  } else if (event.pages.total === 0) {
    run.afterValue(flow, state, state.result, []);
  } else {
    const writer = writerOf(run, flow, state);
    if (writer !== false)
      fanOut(run, state, { kind: "pages", pages: event.pages }, event.pages.total, writer);
  }
  return run.finish(true);
}

/** The join a thread waits for completed (`JoinCompleted`): merges its branches, or fails the state. */
export function onJoinCompleted(
  run: Run,
  flow: Flow,
  state: State,
  event: Extract<ThreadEvent, { type: "JoinCompleted" }>,
  unchanged: ThreadStep,
): ThreadStep {
  const waiting = run.thread.waiting;
  const current = event.token.thread === run.thread.id && event.token.step === run.thread.step;
  if (!current || waiting?.kind !== "join") return unchanged;
  if (state.type !== "Parallel" && state.type !== "Map") return unchanged;
  if (event.outcome.status === "failed") {
    run.history({ type: "BranchesJoined", state: state.name, error: event.outcome.error });
    run.fail(flow, state, event.outcome.error);
  } else if (event.outcome.written !== undefined) {
    // Results went to the Map's result_writer: its manifest is the value.
    run.history({
      type: "BranchesJoined",
      state: state.name,
      detail: { written: true },
    });
    run.afterValue(flow, state, state.result, event.outcome.written);
  } else {
    joinBranches(run, flow, state, event.outcome.branches);
  }
  return run.finish(true);
}

/** A Map's `result_writer` location; false when it failed the state. */
export function writerOf(
  run: Run,
  flow: Flow,
  state: MapState,
): ResultLocation | undefined | false {
  if (!state.resultWriter) return undefined;
  const location = resolveResultLocation(state.resultWriter, run.evaluation(), state.name);
  if (location.ok) return location.value;
  run.fail(flow, state, location.error);
  return false;
}

/** Starts a Parallel's or Map's join and its first branches; the thread waits for the join. */
export function fanOut(
  run: Run,
  state: ParallelState | MapState,
  inputs: BranchInputs,
  total: number,
  writer?: ResultLocation,
): void {
  const joinId = joinIdFor(run.thread.id, state.name, run.thread.step);
  const parallel = state.type === "Parallel";
  const toleratedFailures =
    state.type === "Map" && state.toleratedFailurePercentage !== undefined
      ? Math.min(
          state.toleratedFailures,
          Math.floor((total * state.toleratedFailurePercentage) / 100),
        )
      : state.toleratedFailures;
  const join: JoinState = {
    id: joinId,
    kind: parallel ? "parallel" : "map",
    parentThread: run.thread.id,
    parentFlow: run.thread.flow,
    ...(run.thread.map ? { parentMap: run.thread.map } : {}),
    parentStep: run.thread.step,
    state: state.name,
    total,
    waitForAll: parallel ? state.completion === "ALL" : true,
    required: parallel ? state.required : Math.max(0, total - toleratedFailures),
    toleratedFailures,
    maxConcurrency: parallel ? 0 : state.maxConcurrency,
    started: 0,
    succeeded: [],
    failed: [],
    status: "open",
    ...(run.resume ? { resume: run.resume } : {}),
  };
  run.resume = undefined;
  const first = join.maxConcurrency > 0 ? Math.min(join.maxConcurrency, total) : total;
  const indexes = Array.from({ length: first }, (_, i) => i);
  run.thread = { ...run.thread, waiting: { kind: "join", joinId } };
  run.commands.push({
    type: "StartJoin",
    join: { ...join, started: first },
    inputs,
    ...(writer ? { writer } : {}),
  });
  run.commands.push({ type: "StartBranches", joinId, indexes });
  run.history({
    type: "BranchesStarted",
    state: state.name,
    detail: { join: joinId, total, started: first },
  });
}

/** A Parallel's or Map's branches all ended well enough: merge their results and move on. */
export function joinBranches(
  run: Run,
  flow: Flow,
  state: ParallelState | MapState,
  branches: readonly BranchResult[],
): void {
  let data = run.thread.data;
  const outputs: JsonValue[] = [];
  const ordered = [...branches].sort((a, b) => a.index - b.index);
  try {
    for (const branch of ordered) {
      const output = branch.status === "succeeded" ? (branch.output ?? null) : null;
      outputs.push(output);
      if (state.type !== "Parallel" || branch.status !== "succeeded") continue;
      const spec = state.branches[branch.index];
      if (!spec || spec.result === null) continue;
      const value =
        spec.single && spec.result.length > 0 ? (getPath(output, spec.result) ?? null) : output;
      data = setPath(data, spec.result, value);
    }
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return run.fail(flow, state, {
      name: ERRORS.EXPRESSION_ERROR,
      message: `${state.name}: ${error.message}`,
    });
  }
  // The succeeded indexes while they are few; past that their count (a 100,000-item
  // Map's list would pass DynamoDB's item limit on its own).
  const succeeded = ordered.filter((b) => b.status === "succeeded").map((b) => b.index);
  run.history({
    type: "BranchesJoined",
    state: state.name,
    detail:
      ordered.length <= MAX_LISTED_BRANCHES
        ? { succeeded }
        : { items: ordered.length, succeededCount: succeeded.length },
  });
  run.thread = { ...run.thread, data };
  if (state.result === null) return run.exitTo(flow, state, data);
  return run.afterValue(flow, state, state.result, outputs);
}

function describe(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}
