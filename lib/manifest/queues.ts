/**
 * The queues' logical names, as the runtime, the local stack, the AWS composition root
 * and the construct spell them: `transitions` and its dead-letter queue `dlq`, and per
 * worker pool (`urn:cascade:activity:<name>@<pool>`) `worker:<pool>` and `dlq:<pool>`.
 * Imports nothing.
 */

/** The queues' CDK ids and physical-name suffixes: one for transitions, one per dedicated worker group, each with a dead-letter queue. */
export const QUEUES = {
  transitions: { id: "Transitions", suffix: "transitions" },
  deadLetter: { id: "TransitionsDlq", suffix: "transitions-dlq" },
  /** `activities-<pool>`: the queue of a worker pool (`urn:cascade:activity:<name>@<pool>`). */
  workerPrefix: "activities-",
} as const;

/** The transition queue's logical name. */
export const TRANSITIONS_QUEUE = "transitions";
/** The transition queue's dead-letter queue. */
export const DEAD_LETTER_QUEUE = "dlq";

/** A worker pool's queue: `worker:<pool>`. */
export function workerQueue(pool: string): string {
  return `worker:${pool}`;
}
/** A worker pool's dead-letter queue: `dlq:<pool>`. */
export function workerDeadLetterQueue(pool: string): string {
  return `dlq:${pool}`;
}
/** The pool of a worker queue's logical name, or undefined for another queue. */
export function poolOfQueue(name: string): string | undefined {
  return name.startsWith("worker:") ? name.slice("worker:".length) : undefined;
}
/** True for `dlq` and every `dlq:<pool>`. */
export function isDeadLetterQueue(name: string): boolean {
  return name === DEAD_LETTER_QUEUE || name.startsWith(`${DEAD_LETTER_QUEUE}:`);
}
/**
 * The name of a queue in metrics and dashboards (`transitions`, `activities-<pool>`),
 * which is also the suffix of its physical name.
 */
export function queueDisplayName(name: string): string {
  const pool = poolOfQueue(name);
  return pool === undefined ? name : `${QUEUES.workerPrefix}${pool}`;
}
