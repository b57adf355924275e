/**
 * The `cascade` program's exit codes. Scripts depend on these; never renumber.
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | success (warnings allowed) |
 * | 1 | the input is invalid: a workflow, `cascade.yaml`, JSON given on the command line, a request the API rejected |
 * | 2 | an execution ran and failed, timed out or was cancelled |
 * | 3 | not found: no such execution, workflow or app |
 * | 4 | conflict: an execution with that id exists with another input, or it has already ended; `init` would overwrite a file |
 * | 64 | the command line is wrong: unknown command or option, missing argument, no such file |
 * | 65 | `cascade dev`'s data folder was written by another version of Cascade (another data layout) |
 * | 69 | a service the command needs cannot be reached (or answered 5xx), or its port is taken |
 * | 70 | an internal error: a bug in Cascade, please report it |
 * | 130 | interrupted (Ctrl-C) before the command finished |
 */
export const EXIT = {
  OK: 0,
  INVALID: 1,
  EXECUTION_FAILED: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  USAGE: 64,
  INCOMPATIBLE_DATA: 65,
  UNAVAILABLE: 69,
  INTERNAL: 70,
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
