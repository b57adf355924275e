/**
 * The `cascade` program's exit codes. Scripts depend on these; never renumber.
 *
 * | code | meaning |
 * | ---: | --- |
 * | 0 | success (warnings allowed) |
 * | 1 | the input is invalid: a workflow, `cascade.yaml`, JSON given on the command line |
 * | 2 | an execution ran and failed, timed out or was cancelled |
 * | 64 | the command line is wrong: unknown command or option, missing argument, no such file |
 * | 69 | a service the command needs cannot be reached |
 * | 70 | an internal error: a bug in Cascade, please report it |
 */
export const EXIT = {
  OK: 0,
  INVALID: 1,
  EXECUTION_FAILED: 2,
  USAGE: 64,
  UNAVAILABLE: 69,
  INTERNAL: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
