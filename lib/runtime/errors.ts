/**
 * The runtime's errors, under one base class. Each carries a stable `code`; callers
 * (the API, the CLI, the batch handler) act on the code, never on the message.
 */
import type { InputProblem } from "../core/cdl/input-schema.ts";

/** The base of every error the runtime raises. */
export class CascadeRuntimeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CascadeRuntimeError";
    this.code = code;
  }
}

/** Raised when an execution cannot start: its input fails the workflow's input_schema, or its id is taken. */
export class StartError extends CascadeRuntimeError {
  declare readonly code: "INVALID_INPUT" | "ID_CONFLICT" | "INVALID_ID";
  readonly problems: readonly InputProblem[];
  constructor(code: StartError["code"], message: string, problems: readonly InputProblem[] = []) {
    super(code, message);
    this.name = "StartError";
    this.problems = problems;
  }
}

/** Raised when a message cannot be applied now (lost races beyond the retry budget); the queue redelivers it. */
export class RuntimeError extends CascadeRuntimeError {
  declare readonly code: "CONFLICT" | "MISSING_RECORD" | "BAD_MESSAGE" | "STOPPED";
  constructor(code: RuntimeError["code"], message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "RuntimeError";
  }
}
