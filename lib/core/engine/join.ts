/**
 * The join of one Parallel or Map activation: pure functions over its record.
 * The branch whose end completes the join is the one whose step returns
 * `CompleteJoin`; a duplicate or late report changes nothing.
 */
import type {
  BranchFinished,
  BranchResult,
  Command,
  JoinOutcome,
  JoinState,
  JoinStep,
  WorkflowError,
} from "./types.ts";
import { ERRORS } from "./types.ts";

/** Records one branch's end and decides: wait, start more (Map concurrency), or complete. */
export function applyBranchFinished(join: JoinState, finished: BranchFinished): JoinStep {
  const unchanged: JoinStep = { join, commands: [], changed: false };
  if (finished.joinId !== join.id || join.status !== "open") return unchanged;
  if (finished.index < 0 || finished.index >= join.started) return unchanged;
  if (join.succeeded.includes(finished.index) || join.failed.includes(finished.index))
    return unchanged;

  const succeeded =
    finished.status === "succeeded" ? [...join.succeeded, finished.index] : join.succeeded;
  const failed = finished.status === "succeeded" ? join.failed : [...join.failed, finished.index];
  let next: JoinState = { ...join, succeeded, failed };
  const commands: Command[] = [];
  const parent = { thread: join.parentThread, step: join.parentStep };

  if (failed.length > join.toleratedFailures) {
    const joinError = branchFailedError(join, finished.index, finished.error);
    next = { ...next, status: "failed", error: joinError };
    commands.push({
      type: "CompleteJoin",
      joinId: join.id,
      parent,
      outcome: { status: "failed", error: joinError },
    });
    pushCancel(next, commands);
    return { join: next, commands, changed: true };
  }

  const finishedCount = succeeded.length + failed.length;
  const done = join.waitForAll ? finishedCount === join.total : succeeded.length >= join.required;
  if (done) {
    next = { ...next, status: "succeeded" };
    commands.push({ type: "CompleteJoin", joinId: join.id, parent, outcome: outcomeOf(next) });
    pushCancel(next, commands);
    return { join: next, commands, changed: true };
  }

  if (join.started < join.total) {
    const inFlight = join.started - finishedCount;
    const room =
      join.maxConcurrency > 0 ? join.maxConcurrency - inFlight : join.total - join.started;
    const count = Math.min(room, join.total - join.started);
    if (count > 0) {
      const indexes = Array.from({ length: count }, (_, i) => join.started + i);
      next = { ...next, started: join.started + count };
      commands.push({ type: "StartBranches", joinId: join.id, indexes });
    }
  }
  return { join: next, commands, changed: true };
}

/** The error of a join that failed past its tolerance, at branch or item `index`. */
export function branchFailedError(
  join: Pick<JoinState, "kind" | "state">,
  index: number,
  cause: WorkflowError | undefined,
): WorkflowError {
  const error = cause ?? { name: ERRORS.CANCELLED, message: "the branch was cancelled" };
  const what = join.kind === "map" ? "item" : "branch";
  return {
    name: ERRORS.BRANCH_FAILED,
    message: `${what} ${index} of '${join.state}' failed with ${error.name}: ${error.message}`,
  };
}

/** Cancels an open join: every branch still running is asked to stop, none is started. */
export function cancelJoin(join: JoinState): JoinStep {
  if (join.status !== "open") return { join, commands: [], changed: false };
  const next: JoinState = { ...join, status: "cancelled" };
  const commands: Command[] = [];
  pushCancel(next, commands);
  return { join: next, commands, changed: true };
}

/** The branches that started and have not reported: still running. */
export function runningBranches(join: JoinState): number[] {
  const ended = new Set([...join.succeeded, ...join.failed]);
  return Array.from({ length: join.started }, (_, i) => i).filter((i) => !ended.has(i));
}

function pushCancel(join: JoinState, commands: Command[]): void {
  const running = runningBranches(join);
  if (running.length > 0)
    commands.push({ type: "CancelBranches", joinId: join.id, indexes: running });
}

function outcomeOf(join: JoinState): JoinOutcome {
  const succeeded = new Set(join.succeeded);
  const failed = new Set(join.failed);
  const branches: BranchResult[] = Array.from({ length: join.total }, (_, index) => ({
    index,
    status: succeeded.has(index) ? "succeeded" : failed.has(index) ? "failed" : "pending",
  }));
  return { status: "succeeded", branches };
}

/**
 * What a closed join implies: completing its parent (unless it was cancelled)
 * and cancelling the branches still running. Derived from the join alone, so a
 * redelivered report that closed it can re-send them without an outbox.
 */
export function closingCommands(join: JoinState): Command[] {
  if (join.status === "open") return [];
  const commands: Command[] = [];
  const parent = { thread: join.parentThread, step: join.parentStep };
  if (join.status === "succeeded") {
    commands.push({ type: "CompleteJoin", joinId: join.id, parent, outcome: outcomeOf(join) });
  } else if (join.status === "failed" && join.error) {
    commands.push({
      type: "CompleteJoin",
      joinId: join.id,
      parent,
      outcome: { status: "failed", error: join.error },
    });
  }
  pushCancel(join, commands);
  return commands;
}
