/**
 * Logical message ids: the same for every copy of one message, so receivers dedupe,
 * and of a bounded length whatever the number of hops or items (DESIGN.md invariant 7).
 * A message is named after what caused it — a step of a thread's log, a join, or an
 * HTTP call — never after the chain of messages before it.
 */

/** No id is longer than this (thread ids are bounded by the definition's nesting). */
export const MAX_MESSAGE_ID_CHARS = 512;

export const MESSAGE_IDS = {
  /** Message `n` of the outbox of step `version` of `thread` (0: a branch's uncommitted start). */
  step: (thread: string, version: number, n: number | string): string =>
    `${thread}#${version}/${n}`,
  /** The HTTP start of an execution. */
  start: (executionId: string): string => `start:${executionId}`,
  /** The HTTP cancel of an execution. */
  cancel: (executionId: string): string => `cancel:${executionId}`,
  /** Delivering the sender's event `eventId` to a waiting thread. */
  signal: (eventId: string, thread: string): string => `signal:${eventId}:${thread}`,
  /** A join starting its branch `index`. */
  branch: (joinId: string, index: number): string => `${joinId}!b${index}`,
  /** A join cancelling its branch `index`. */
  cancelBranch: (joinId: string, index: number): string => `${joinId}!c${index}`,
  /** A page of a join's branch starts, from branch `from` on. */
  branchPage: (joinId: string, from: number): string => `${joinId}!p${from}`,
  /** A page of a closed join's cancel, for the branches past `after`. */
  cancelPage: (joinId: string, after: number): string => `${joinId}!x${after}`,
  /** A join continuing the thread that waits for it. */
  joinDone: (joinId: string): string => `${joinId}!done`,
  /** A dedicated worker's outcome of the job `mid`. */
  result: (mid: string): string => `${mid}/result`,
  /** Failing what a dead-lettered message concerned. */
  deadLetter: (mid: string): string => `dlq:${mid}`,
} as const;

/** Execution ids: what a caller may choose (they appear in keys and URLs). */
export const EXECUTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
