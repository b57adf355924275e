/** Why a redrive was refused. */
import type { InputProblem } from "../core/cdl/input-schema.ts";

/** Why a redrive was refused: a stable `code`, and the problems of an input that fails its schema. */
export class RedriveError extends Error {
  readonly code:
    | "UNKNOWN_STATE"
    | "STATE_IN_BRANCH"
    | "UNKNOWN_THREAD"
    | "THREAD_REQUIRED"
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
