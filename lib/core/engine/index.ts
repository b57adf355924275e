/**
 * The engine: a pure, deterministic interpreter of CDL. Threads step through
 * states (`thread.ts`; one step's working copy in `step.ts`, a Task's attempt in
 * `task.ts`, fan-out and the join's completion in `fan-out.ts`), joins gather
 * branches (`join.ts`), and the runtime carries out the commands both return.
 */
export { EngineError, fanOutState, resolveFlow, stateOf } from "./flow.ts";
export {
  type ItemSource,
  type ResultLocation,
  resolveItemSource,
  resolveResultLocation,
} from "./items.ts";
export {
  applyBranchFinished,
  branchFailedError,
  cancelJoin,
  closingCommands,
  runningBranches,
} from "./join.ts";
export { nextRandom, seedFor } from "./random.ts";
export { type PathLevel, pathTo, type Resume, type ThreadLevel, threadPath } from "./resume.ts";
export {
  applyThreadEvent,
  type BranchSpec,
  branchSpecFor,
  branchThreadId,
  joinIdFor,
  MAX_INLINE_TRANSITIONS,
  MAX_LISTED_BRANCHES,
  mapItemSpec,
  ROOT_THREAD,
  type StartFrom,
  startBranch,
  startExecution,
} from "./thread.ts";
export * from "./types.ts";
