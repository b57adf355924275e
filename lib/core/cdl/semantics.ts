/**
 * The rules JSON Schema cannot express: unique state names, transition targets
 * that exist in the right flow, reachability, a way out of every state, result
 * paths that do not collide in a join, retry and catch ordering, known
 * activities. The normalised `Definition` is built once nothing is wrong (`build.ts`).
 */
import { type JsonValue, type PathSegment, parsePath } from "../expr/index.ts";
import { suggest } from "../suggest.ts";
import { activityNameFor, asList, parseResource } from "./build.ts";
import { CDL_CODES } from "./diagnostics.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { schemaProblem } from "./input-schema.ts";
import { checkMapItems } from "./map-items.ts";
import type { DocPath } from "./source.ts";
import { isRecord, isWholeTemplate, type Report } from "./structure.ts";
import type { ActivityRef } from "./types.ts";

export { activityNameFor, buildDefinition, parseResource } from "./build.ts";

type Raw = Record<string, unknown>;

interface StateInfo {
  readonly path: DocPath;
  readonly raw: Raw;
  readonly name: string;
}

interface FlowInfo {
  readonly path: DocPath;
  readonly states: StateInfo[];
  /** The explicit `start_at` and where it was written, if any. */
  readonly startAt?: { readonly name: unknown; readonly path: DocPath };
  /** A Parallel branch written as one state: the state ends the branch by itself. */
  readonly single: boolean;
}

/** The Lambda function a Task's activity runs in, as the timeout check sees it. */
export interface TaskFunction {
  /** How messages name it, e.g. `the engine function`, `the worker function for us-east`. */
  readonly label: string;
  /** The function's timeout, in milliseconds. */
  readonly timeoutMs: number;
  /** What the invocation needs after the activity (commit and send), in milliseconds. */
  readonly marginMs: number;
  /** The setting that raises `timeoutMs`, for the message, e.g. `deployments.engine.timeout in cascade.yaml`. */
  readonly setting: string;
  /** The longest `timeoutMs` the setting allows (Lambda's 15 minutes), in milliseconds. */
  readonly maxTimeoutMs: number;
}

/** What the checks may know about the app. */
export interface SemanticOptions {
  /** The app's activity names; when given, unknown activities are errors. */
  readonly activities?: ReadonlySet<string>;
  /**
   * The function each Task runs in (by its resource). When given, a Task whose
   * `timeout` (or, without one, `heartbeat`) plus the function's margin is longer than
   * the function's timeout is an error: the function would be killed first, and the
   * Task's own timeout, retry and catch would never apply.
   */
  readonly taskFunction?: (resource: ActivityRef) => TaskFunction;
}

const TERMINAL_TYPES = new Set(["Succeed", "Fail"]);
/** Activity names are exported function names. */
const ACTIVITY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CHOICE = "Choice";

/** Runs every cross-field check on a structurally valid-ish document, reporting through `report`. */
export function checkSemantics(root: unknown, report: Report, options: SemanticOptions): void {
  if (!isRecord(root) || !Array.isArray(root.states)) return;
  const flows: FlowInfo[] = [];
  collectFlows(root, "states", false, flows);

  if (isRecord(root.input_schema)) {
    const problem = schemaProblem(root.input_schema as { [key: string]: JsonValue });
    if (problem !== undefined) {
      report(
        CDL_CODES.INVALID_VALUE,
        ["input_schema"],
        `input_schema is not a usable JSON Schema: ${problem.split("\n")[0]}`,
      );
    }
  }
  checkUniqueNames(flows, report);
  const global = new Set(flows.flatMap((f) => f.states.map((s) => s.name)));
  for (const flow of flows) {
    checkFlow(flow, global, report);
  }
  for (const flow of flows) {
    for (const state of flow.states) checkState(state, report, options);
  }
}

function collectFlows(
  owner: Raw,
  key: "states" | "iterator",
  single: boolean,
  out: FlowInfo[],
  base: DocPath = [],
): void {
  const list = owner[key];
  if (!Array.isArray(list)) return;
  const path = [...base, key];
  const states: StateInfo[] = [];
  list.forEach((item, index) => {
    if (isRecord(item) && typeof item.name === "string") {
      states.push({ path: [...path, index], raw: item, name: item.name });
    }
  });
  const startAt =
    owner.start_at === undefined
      ? undefined
      : { name: owner.start_at, path: [...base, "start_at"] };
  out.push({ path, states, single, ...(startAt ? { startAt } : {}) });
  for (const state of states) collectNested(state, out);
}

function collectNested(state: StateInfo, out: FlowInfo[]): void {
  const { raw, path } = state;
  if (raw.type === "Parallel" && Array.isArray(raw.branches)) {
    raw.branches.forEach((branch, index) => {
      if (!isRecord(branch)) return;
      const branchPath = [...path, "branches", index];
      if (Array.isArray(branch.states)) {
        collectFlows(branch, "states", false, out, branchPath);
      } else if (typeof branch.name === "string") {
        const only: StateInfo = { path: branchPath, raw: branch, name: branch.name };
        out.push({ path: branchPath, states: [only], single: true });
        collectNested(only, out);
      }
    });
  }
  if (raw.type === "Map" && Array.isArray(raw.iterator)) {
    collectFlows(raw, "iterator", false, out, path);
  }
}

function checkUniqueNames(flows: readonly FlowInfo[], report: Report): void {
  const seen = new Map<string, DocPath>();
  for (const flow of flows) {
    for (const state of flow.states) {
      const first = seen.get(state.name);
      if (first) {
        report(
          CDL_CODES.DUPLICATE_STATE,
          [...state.path, "name"],
          `state name '${state.name}' is already used (at ${describePath(first)}); state names are unique in a workflow`,
        );
      } else {
        seen.set(state.name, state.path);
      }
    }
  }
}

function describePath(path: DocPath): string {
  return path
    .map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`))
    .join("")
    .replace(/^\./, "");
}

/** Every transition a state can take, with the path where each is written. */
function edges(raw: Raw, path: DocPath): { target: unknown; path: DocPath }[] {
  const out: { target: unknown; path: DocPath }[] = [];
  if (raw.next !== undefined) out.push({ target: raw.next, path: [...path, "next"] });
  if (raw.type === CHOICE) {
    if (Array.isArray(raw.choices)) {
      raw.choices.forEach((choice, index) => {
        if (isRecord(choice) && choice.next !== undefined) {
          out.push({ target: choice.next, path: [...path, "choices", index, "next"] });
        }
      });
    }
    if (raw.default !== undefined) out.push({ target: raw.default, path: [...path, "default"] });
  }
  for (const [index, catcher] of asList(raw.catch).entries()) {
    if (isRecord(catcher) && catcher.next !== undefined) {
      const at = Array.isArray(raw.catch)
        ? [...path, "catch", index, "next"]
        : [...path, "catch", "next"];
      out.push({ target: catcher.next, path: at });
    }
  }
  return out;
}

function checkFlow(flow: FlowInfo, global: ReadonlySet<string>, report: Report): void {
  const local = new Map(flow.states.map((s) => [s.name, s]));
  const names = [...local.keys()];
  const where = flow.single ? "its branch" : flow.path.length > 1 ? "its flow" : "the workflow";

  let brokenTargets = 0;
  const checkTarget = (target: unknown, path: DocPath): void => {
    if (typeof target !== "string" || local.has(target)) return;
    brokenTargets++;
    if (global.has(target)) {
      report(
        CDL_CODES.TARGET_OUT_OF_SCOPE,
        path,
        flow.single
          ? `'${target}' is outside this branch; a branch of one state ends by itself: remove \`next\``
          : `'${target}' is in another flow; a state can only move to states of ${where}`,
      );
      return;
    }
    const hint = suggest(target, names);
    report(
      CDL_CODES.UNKNOWN_TARGET,
      path,
      `no state named '${target}' in ${where}${hint ? `; did you mean '${hint}'?` : ""}`,
      hint === undefined ? {} : { suggestion: hint },
    );
  };

  if (flow.startAt) checkTarget(flow.startAt.name, flow.startAt.path);

  for (const state of flow.states) {
    const { raw, path } = state;
    for (const edge of edges(raw, path)) checkTarget(edge.target, edge.path);

    const type = raw.type;
    if (typeof type !== "string" || type === CHOICE || TERMINAL_TYPES.has(type)) continue;
    const hasNext = raw.next !== undefined;
    const hasEnd = raw.end !== undefined;
    if (hasNext && hasEnd) {
      report(
        CDL_CODES.NEXT_AND_END,
        [...path, "end"],
        `state '${state.name}' has both \`next\` and \`end\`; keep one`,
        {
          part: "key",
        },
      );
    } else if (!hasNext && !hasEnd && !flow.single) {
      report(
        CDL_CODES.NO_WAY_OUT,
        [...path, "name"],
        `state '${state.name}' has no way out: add \`next: <state>\` or \`end: true\``,
      );
    }
  }

  const first = typeof flow.startAt?.name === "string" ? flow.startAt.name : flow.states[0]?.name;
  if (first === undefined || !local.has(first)) return;
  const reached = new Set<string>([first]);
  const queue = [first];
  let canEnd = false;
  while (queue.length > 0) {
    const current = local.get(queue.shift() ?? "");
    if (!current) continue;
    const type = current.raw.type;
    if (
      flow.single ||
      current.raw.end === true ||
      (typeof type === "string" && TERMINAL_TYPES.has(type)) ||
      (type === CHOICE && current.raw.default === undefined)
    ) {
      canEnd = true;
    }
    for (const edge of edges(current.raw, current.path)) {
      if (typeof edge.target === "string" && local.has(edge.target) && !reached.has(edge.target)) {
        reached.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  for (const state of flow.states) {
    if (!reached.has(state.name)) {
      report(
        CDL_CODES.UNREACHABLE,
        [...state.path, "name"],
        `state '${state.name}' can never be reached from '${first}'`,
        {
          severity: "warning",
        },
      );
    }
  }
  if (!canEnd && brokenTargets === 0) {
    report(
      CDL_CODES.NO_WAY_OUT,
      flow.path,
      `no state reachable from '${first}' ends ${where}: add \`end: true\`, a Succeed or a Fail state`,
      { part: "key" },
    );
  }
}

function checkState(state: StateInfo, report: Report, options: SemanticOptions): void {
  const { raw, path, name } = state;

  if (raw.type === "Task") {
    const activity =
      typeof raw.resource === "string"
        ? parseResource(raw.resource).activity
        : activityNameFor(name);
    if (raw.resource === undefined && !ACTIVITY_NAME.test(activity)) {
      report(
        CDL_CODES.RESOURCE,
        [...path, "name"],
        `state name '${name}' does not make an activity name ('${activity}'); add \`resource: urn:cascade:activity:<name>\``,
      );
    } else if (options.activities && !options.activities.has(activity)) {
      const hint = suggest(activity, options.activities);
      report(
        CDL_CODES.UNKNOWN_ACTIVITY,
        raw.resource === undefined ? [...path, "name"] : [...path, "resource"],
        `no activity named '${activity}' in the app${raw.resource === undefined ? ` (a Task without \`resource\` runs its name in snake_case)` : ""}${hint ? `; did you mean '${hint}'?` : ""}`,
        hint === undefined ? {} : { suggestion: hint },
      );
    }
    const timeout = typeof raw.timeout === "string" ? parseDuration(raw.timeout) : undefined;
    const heartbeat = typeof raw.heartbeat === "string" ? parseDuration(raw.heartbeat) : undefined;
    if (timeout !== undefined && heartbeat !== undefined && heartbeat >= timeout) {
      report(
        CDL_CODES.INVALID_VALUE,
        [...path, "heartbeat"],
        `heartbeat (${raw.heartbeat}) must be shorter than timeout (${raw.timeout})`,
      );
    }
    if (options.taskFunction) {
      const resource =
        typeof raw.resource === "string" ? parseResource(raw.resource) : { activity };
      checkTaskFits(state, options.taskFunction(resource), timeout, heartbeat, report);
    }
    checkErrorLists(raw.retry, [...path, "retry"], "retrier", report);
  }
  if (raw.catch !== undefined) checkErrorLists(raw.catch, [...path, "catch"], "catcher", report);

  if (raw.type === "Parallel" && Array.isArray(raw.branches)) {
    const count = raw.branches.length;
    const strategy = raw.completion_strategy ?? "ALL";
    if (strategy === "AT_LEAST" && raw.at_least === undefined) {
      report(CDL_CODES.REQUIRED, [...path, "completion_strategy"], "AT_LEAST needs `at_least: N`");
    }
    if (strategy !== "AT_LEAST" && raw.at_least !== undefined) {
      report(
        CDL_CODES.CONFLICTING_KEYS,
        [...path, "at_least"],
        `\`at_least\` applies only to completion_strategy AT_LEAST`,
        {
          part: "key",
        },
      );
    }
    if (typeof raw.at_least === "number" && raw.at_least > count) {
      report(
        CDL_CODES.INVALID_VALUE,
        [...path, "at_least"],
        `at_least is ${raw.at_least} but there are only ${count} branches`,
      );
    }
    const required =
      strategy === "ANY"
        ? 1
        : strategy === "AT_LEAST" && typeof raw.at_least === "number"
          ? raw.at_least
          : 1;
    if (
      typeof raw.tolerated_failures === "number" &&
      count > 0 &&
      raw.tolerated_failures > count - required
    ) {
      report(
        CDL_CODES.INVALID_VALUE,
        [...path, "tolerated_failures"],
        `tolerated_failures is ${raw.tolerated_failures} but with ${count} branches at most ${Math.max(0, count - required)} can fail and still leave ${required} to succeed`,
      );
    }
    if (strategy === "ALL" || strategy === "AT_LEAST")
      checkBranchResults(raw.branches, path, report);
  }

  if (raw.type === "Map") checkMapItems(raw, path, name, report);
  if (
    raw.type === "Map" &&
    raw.items !== undefined &&
    !Array.isArray(raw.items) &&
    !isWholeTemplate(raw.items)
  ) {
    report(
      CDL_CODES.EXPRESSION,
      [...path, "items"],
      `items is a list or one {{ }} expression that gives one, e.g. "{{ $.cart_items }}"`,
    );
  }

  if (raw.type === "Wait") {
    if (raw.duration !== undefined && raw.until !== undefined) {
      report(
        CDL_CODES.CONFLICTING_KEYS,
        [...path, "until"],
        "a Wait takes `duration` or `until`, not both",
        { part: "key" },
      );
    } else if (raw.duration === undefined && raw.until === undefined) {
      report(
        CDL_CODES.REQUIRED,
        [...path, "name"],
        `Wait state '${name}' needs \`duration\` or \`until\``,
      );
    }
  }
}

/** A Task's timeout (or, without one, its heartbeat) must end before its function is killed. */
function checkTaskFits(
  state: StateInfo,
  fn: TaskFunction,
  timeout: number | undefined,
  heartbeat: number | undefined,
  report: Report,
): void {
  const key = timeout !== undefined ? "timeout" : "heartbeat";
  const ms = timeout ?? heartbeat;
  if (ms === undefined || ms + fn.marginMs <= fn.timeoutMs) return;
  const d = formatDuration;
  const what = key === "timeout" ? `timeout ${d(ms)}` : `heartbeat ${d(ms)} and no timeout`;
  const fix: string[] = [];
  if (fn.timeoutMs > fn.marginMs)
    fix.push(`lower its ${key} to at most ${d(fn.timeoutMs - fn.marginMs)}`);
  if (ms + fn.marginMs <= fn.maxTimeoutMs)
    fix.push(`raise ${fn.setting} to at least ${d(ms + fn.marginMs)}`);
  report(
    CDL_CODES.TASK_TIMEOUT_EXCEEDS_FUNCTION,
    [...state.path, key],
    `'${state.name}' has ${what} but ${fn.label} times out at ${d(fn.timeoutMs)} (${d(ms)} + ${d(fn.marginMs)} margin to commit > ${d(fn.timeoutMs)})${fix.length > 0 ? `: ${fix.join(", or ")}` : ""}`,
  );
}

function checkErrorLists(value: unknown, path: DocPath, what: string, report: Report): void {
  const list = asList(value);
  list.forEach((entry, index) => {
    if (!isRecord(entry)) return;
    const at = Array.isArray(value) ? [...path, index] : path;
    const errors = entry.errors;
    const names = Array.isArray(errors) ? errors : ["ALL"];
    if (names.includes("ALL") && names.length > 1) {
      report(CDL_CODES.ERROR_NAMES, [...at, "errors"], "ALL matches every error; list it alone");
    }
    if (names.includes("ALL") && index < list.length - 1) {
      report(
        CDL_CODES.ERROR_NAMES,
        Array.isArray(errors) ? [...at, "errors"] : at,
        `this ${what} matches every error, so the ones after it never apply; move it last`,
      );
    }
  });
}

/** Result paths of ALL / AT_LEAST branches must not overlap: two branches writing one place would race. */
function checkBranchResults(branches: readonly unknown[], path: DocPath, report: Report): void {
  const seen: { path: readonly PathSegment[]; text: string; branch: string }[] = [];
  branches.forEach((branch, index) => {
    if (!isRecord(branch) || typeof branch.result !== "string") return;
    let segments: readonly PathSegment[];
    try {
      segments = parsePath(branch.result);
    } catch {
      return;
    }
    const name = typeof branch.name === "string" ? branch.name : `#${index}`;
    for (const other of seen) {
      const n = Math.min(other.path.length, segments.length);
      if (other.path.slice(0, n).every((s, i) => s === segments[i])) {
        report(
          CDL_CODES.RESULT_CONFLICT,
          [...path, "branches", index, "result"],
          `branch '${name}' writes ${branch.result}, which overlaps ${other.text} written by branch '${other.branch}'; with ALL both land in the same data`,
        );
        return;
      }
    }
    seen.push({ path: segments, text: branch.result, branch: name });
  });
}
