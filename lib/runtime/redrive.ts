/**
 * Redrive: run an ended execution again from a state it entered, as a new execution
 * linked both ways to the original (`redriveOf` / `redrives`), on the definition the
 * original was pinned to. The original's log is never rewritten: the data a state was
 * entered with is read back from its history (the `StateEntered` event's input).
 */
import { randomUUID } from "node:crypto";
import { checkInput } from "../core/cdl/input-schema.ts";
import type { Definition } from "../core/cdl/types.ts";
import { pathTo, type Resume, ROOT_THREAD, type StartFrom } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionView, ThreadRecord } from "../core/ports.ts";
import { suggest } from "../core/suggest.ts";
import type { RuntimeContext } from "./context.ts";
import { StartError } from "./errors.ts";
import { EXECUTION_ID_PATTERN } from "./message-ids.ts";
import { readHistory } from "./queries.ts";
import { RedriveError } from "./redrive-error.ts";
import { planBranchStart, rootJoin } from "./redrive-path.ts";

export { RedriveError };

/** What a caller asks of a redrive. */
export interface RedriveRequest {
  /**
   * A state the execution entered, at any depth. Default: the root-level state a failed
   * or cancelled execution stopped in.
   */
  readonly fromState?: string;
  /**
   * For a state inside a Parallel branch or a Map iteration: the original's thread that
   * entered it (`root/<state>@<step>[<index>]…`, as history names it). Default: the only
   * thread that entered it, or the only one of those that did not succeed.
   */
  readonly thread?: string;
  /** The data to enter that state with. Default: the data it was last entered with. */
  readonly input?: JsonValue;
}

/** A redrive, resolved: what `Runtime.startExecution` is given. */
export interface RedrivePlan {
  readonly workflow: string;
  readonly definitionHash: string;
  /** The new execution's input (`workflow.input`): the original's, or `input` from the start state. */
  readonly input: JsonValue;
  readonly from: StartFrom;
}

/** How a redrive starts its execution: `Runtime.startExecution`. */
export type Start = (
  workflow: string,
  input: JsonValue,
  options: {
    id: string;
    tenant: string;
    redrive: { definitionHash: string; from: StartFrom };
  },
) => Promise<{ executionId: string; created: boolean; record: ThreadRecord }>;

/**
 * Runs an ended execution again from a state it entered, as a new execution (`id`,
 * default a random UUID) on the original's pinned definition, linked both ways. The
 * links are written first (idempotent): a retry with the same `id` finishes a redrive
 * that stopped, as a retried start does.
 * @returns undefined when the execution does not exist
 * @throws RedriveError; StartError INVALID_ID, ID_CONFLICT
 */
export async function redrive(
  rt: RuntimeContext,
  start: Start,
  tenant: string,
  executionId: string,
  request: RedriveRequest & { readonly id?: string },
): Promise<
  { executionId: string; created: boolean; record: ThreadRecord; redriveOf: string } | undefined
> {
  const view = await rt.store.getExecution(tenant, executionId);
  if (!view) return undefined;
  const id = request.id ?? randomUUID();
  if (!EXECUTION_ID_PATTERN.test(id))
    throw new StartError("INVALID_ID", `'${id}' is not a valid execution id`);
  const plan = await planRedrive(rt, view, request, { tenant, executionId: id });
  const links = await rt.store.links({ tenant, executionId: id });
  const existing = await rt.store.getExecution(tenant, id);
  if ((existing || links.redriveOf !== undefined) && links.redriveOf !== executionId)
    throw new StartError(
      "ID_CONFLICT",
      `execution '${id}' exists and is no redrive of '${executionId}'`,
    );
  // A retry keeps the first call's time: the original's link item is the same one.
  const now = links.redriveOf === executionId ? (links.redrivenAt ?? rt.now()) : rt.now();
  const expiry = rt.runningExpiry({ ...view.header, startedAt: now });
  await rt.store.putLink(
    { tenant, executionId: id },
    { kind: "redriveOf", executionId, at: now },
    expiry,
  );
  await rt.store.putLink(view.header, { kind: "redrive", executionId: id, at: now }, expiry);
  const started = await start(plan.workflow, plan.input, {
    id,
    tenant,
    redrive: { definitionHash: plan.definitionHash, from: plan.from },
  });
  return { ...started, redriveOf: executionId };
}

/** History events read per page while looking for the state's entry. */
const HISTORY_PAGE = 1000;

/**
 * Resolves a redrive of `view` (an ended execution) into the new execution `owner`.
 * A root-level state starts the root there; a state inside fan-outs starts the root at
 * the outermost of them, which re-runs down the path (see redrive-path.ts). A fan-out
 * redriven with its recorded data re-runs only the branches that did not succeed.
 * @throws RedriveError for a running execution, an unknown state, one never entered, a
 *   succeeded execution without `fromState`, an input failing the schema, a thread that
 *   cannot be told
 */
export async function planRedrive(
  rt: RuntimeContext,
  view: ExecutionView,
  request: RedriveRequest,
  owner: { readonly tenant: string; readonly executionId: string },
): Promise<RedrivePlan> {
  const { header, thread } = view;
  const id = header.executionId;
  if (thread.status === "running")
    throw new RedriveError(
      "EXECUTION_RUNNING",
      `execution '${id}' is still running: cancel it first, or wait for its end`,
    );
  const definition = await rt.deps.definitions.byHash(header.definitionHash);
  const state = request.fromState ?? (thread.status === "succeeded" ? undefined : thread.current);
  if (state === undefined || state === "")
    throw new RedriveError(
      "FROM_STATE_REQUIRED",
      `execution '${id}' succeeded: say which state to redrive it from (from_state)`,
    );
  const path = pathOf(definition, state);
  const original = await rt.headerCodec.load(header.input);
  if (path.length > 0) {
    const start = await planBranchStart(rt, view, state, path, request, owner);
    return {
      workflow: header.workflow,
      definitionHash: header.definitionHash,
      input: original,
      from: {
        state: start.state,
        data: start.data,
        resume: start.resume,
        detail: { redriveOf: id, fromState: state, thread: start.thread },
      },
    };
  }
  if (request.thread !== undefined)
    throw new RedriveError(
      "UNKNOWN_THREAD",
      `state '${state}' is a root-level state: it has no branch thread to name`,
    );
  const data = await enteredWith(rt, view, state);
  if (data === NOT_ENTERED)
    throw new RedriveError(
      "STATE_NOT_ENTERED",
      `execution '${id}' never entered state '${state}': redrive from a state it entered`,
    );
  const fromStart = state === definition.flow.startAt && request.input !== undefined;
  if (fromStart && definition.inputSchema) {
    const problems = checkInput(definition.inputSchema, request.input as JsonValue);
    if (problems.length > 0)
      throw new RedriveError(
        "INVALID_INPUT",
        `the input does not match ${definition.name}'s input_schema`,
        problems,
      );
  }
  const resume =
    request.input === undefined ? await reuseOf(rt, view, definition, state) : undefined;
  return {
    workflow: header.workflow,
    definitionHash: header.definitionHash,
    input: fromStart ? (request.input as JsonValue) : original,
    from: {
      state,
      data: request.input === undefined ? data : request.input,
      ...(resume ? { resume } : {}),
      detail: { redriveOf: id, fromState: state },
    },
  };
}

/** The fan-outs down to `state` ([] at the root). @throws RedriveError UNKNOWN_STATE */
function pathOf(definition: Definition, state: string) {
  const path = pathTo(definition.flow, state);
  if (path) return path;
  const names = [...definition.flow.states.keys()];
  const guess = suggest(state, names);
  throw new RedriveError(
    "UNKNOWN_STATE",
    `${definition.name} has no state '${state.slice(0, 100)}'${guess ? ` (did you mean '${guess}'?)` : ""}; its states are ${names.join(", ")}`,
  );
}

/** A root-level Parallel or Map redriven as it ran: its succeeded branches are kept. */
async function reuseOf(
  rt: RuntimeContext,
  view: ExecutionView,
  definition: Definition,
  state: string,
): Promise<Resume | undefined> {
  const s = definition.flow.states.get(state);
  if (s?.type !== "Parallel" && !(s?.type === "Map" && !s.itemReader)) return undefined;
  const join = await rootJoin(rt, view, state);
  return join === undefined ? undefined : { of: view.header.executionId, join };
}

const NOT_ENTERED = Symbol("not entered");

/** The data the root last entered `state` with, from its history. */
async function enteredWith(
  rt: RuntimeContext,
  view: ExecutionView,
  state: string,
): Promise<JsonValue | typeof NOT_ENTERED> {
  let found: JsonValue | typeof NOT_ENTERED = NOT_ENTERED;
  let cursor: string | undefined;
  do {
    const page = await readHistory(rt.store, rt.codec, view.header, HISTORY_PAGE, cursor);
    for (const event of page.items) {
      if (event.thread !== ROOT_THREAD) return found;
      if (event.type === "StateEntered" && event.state === state) found = event.input ?? null;
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return found;
}
