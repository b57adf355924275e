/**
 * Redrive: run an ended execution again from a state it entered, as a new execution
 * linked both ways to the original (`redriveOf` / `redrives`), on the definition the
 * original was pinned to. The original's log is never rewritten: the data a state was
 * entered with is read back from its history (the `StateEntered` event's input).
 */
import { randomUUID } from "node:crypto";
import { checkInput, type InputProblem } from "../core/cdl/input-schema.ts";
import type { Definition, Flow } from "../core/cdl/types.ts";
import { ROOT_THREAD, type StartFrom } from "../core/engine/index.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionView, ThreadRecord } from "../core/ports.ts";
import { suggest } from "../core/suggest.ts";
import type { RuntimeContext } from "./context.ts";
import { StartError } from "./errors.ts";
import { EXECUTION_ID_PATTERN } from "./message-ids.ts";
import { readHistory } from "./queries.ts";

/** Why a redrive was refused: a stable `code`, and the problems of an input that fails its schema. */
export class RedriveError extends Error {
  readonly code:
    | "UNKNOWN_STATE"
    | "STATE_IN_BRANCH"
    | "STATE_NOT_ENTERED"
    | "FROM_STATE_REQUIRED"
    | "EXECUTION_RUNNING"
    | "INVALID_INPUT";
  readonly problems: readonly InputProblem[];
  constructor(code: RedriveError["code"], message: string, problems: readonly InputProblem[] = []) {
    super(message);
    this.name = "RedriveError";
    this.code = code;
    this.problems = problems;
  }
}

/** What a caller asks of a redrive. */
export interface RedriveRequest {
  /** A root-level state the execution entered. Default: the state a failed or cancelled execution stopped in. */
  readonly fromState?: string;
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
  const plan = await planRedrive(rt, view, request);
  const id = request.id ?? randomUUID();
  if (!EXECUTION_ID_PATTERN.test(id))
    throw new StartError("INVALID_ID", `'${id}' is not a valid execution id`);
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
 * Resolves a redrive of `view` (an ended execution). Reads the root's history (the
 * root's steps sort before every branch's, so the read stops at the first branch event).
 * @throws RedriveError for a running execution, a state unknown, inside a branch or
 *   never entered, a succeeded execution without `fromState`, an input failing the schema
 */
export async function planRedrive(
  rt: RuntimeContext,
  view: ExecutionView,
  request: RedriveRequest,
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
  checkState(definition, state);
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
  const original = await rt.headerCodec.load(header.input);
  return {
    workflow: header.workflow,
    definitionHash: header.definitionHash,
    input: fromStart ? (request.input as JsonValue) : original,
    from: {
      state,
      data: request.input === undefined ? data : request.input,
      detail: { redriveOf: id, fromState: state },
    },
  };
}

/** @throws RedriveError UNKNOWN_STATE (with a suggestion) or STATE_IN_BRANCH */
function checkState(definition: Definition, state: string): void {
  if (definition.flow.states.has(state)) return;
  const enclosing = enclosingRootState(definition.flow, state);
  if (enclosing !== undefined)
    throw new RedriveError(
      "STATE_IN_BRANCH",
      `state '${state}' is inside a branch of '${enclosing}': redrive runs from a root-level state (such as '${enclosing}')`,
    );
  const names = [...definition.flow.states.keys()];
  const guess = suggest(state, names);
  throw new RedriveError(
    "UNKNOWN_STATE",
    `${definition.name} has no state '${state.slice(0, 100)}'${guess ? ` (did you mean '${guess}'?)` : ""}; its states are ${names.join(", ")}`,
  );
}

/** The root-level state whose branches (or Map iterator), at any depth, hold `state`. */
function enclosingRootState(flow: Flow, state: string): string | undefined {
  const holds = (inner: Flow): boolean =>
    inner.states.has(state) || [...inner.states.values()].some((s) => nested(s).some(holds));
  for (const [name, s] of flow.states) if (nested(s).some(holds)) return name;
  return undefined;
}

function nested(state: ReturnType<Flow["states"]["get"]>): Flow[] {
  if (state?.type === "Parallel") return state.branches.map((b) => b.flow);
  if (state?.type === "Map") return [state.iterator];
  return [];
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
