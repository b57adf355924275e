/** Finding flows and states of a definition by reference. */
import type { Definition, Flow, MapState, ParallelState, State } from "../cdl/index.ts";
import type { FlowRef } from "./types.ts";

/** Raised when a thread or token names a flow or state the definition does not have: a bug or a corrupted record. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/** The flow a reference points at. @throws EngineError when it does not resolve. */
export function resolveFlow(definition: Definition, ref: FlowRef): Flow {
  let flow = definition.flow;
  for (const step of ref) {
    const state = flow.states.get(step.state);
    if (state?.type === "Parallel") {
      const branch = state.branches[step.branch ?? -1];
      if (!branch)
        throw new EngineError(
          `flow ref: Parallel '${step.state}' has no branch ${String(step.branch)}`,
        );
      flow = branch.flow;
    } else if (state?.type === "Map") {
      flow = state.iterator;
    } else {
      throw new EngineError(`flow ref: '${step.state}' is not a Parallel or Map state`);
    }
  }
  return flow;
}

/** A state of a flow. @throws EngineError when it is not there. */
export function stateOf(flow: Flow, name: string): State {
  const state = flow.states.get(name);
  if (!state) throw new EngineError(`no state '${name}' in this flow`);
  return state;
}

/** The Parallel or Map state a join belongs to. */
export function fanOutState(flow: Flow, name: string): ParallelState | MapState {
  const state = stateOf(flow, name);
  if (state.type !== "Parallel" && state.type !== "Map") {
    throw new EngineError(`state '${name}' is not a Parallel or Map`);
  }
  return state;
}
