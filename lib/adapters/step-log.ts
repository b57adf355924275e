/** Rules of the step log (DESIGN.md section 5) that every ExecutionStore adapter keeps. */
import type { ThreadRecord } from "../core/ports.ts";

/** A step's number names the step it follows: a write that names another is a bug, not a race. */
export function checkStep(record: ThreadRecord, expected: number): void {
  if (record.version !== expected + 1)
    throw new RangeError(
      `step ${record.version} of thread ${record.thread.id} cannot follow step ${expected}`,
    );
}

/** True for a branch thread of `joinId` itself, not one nested below it. */
export function isChildOf(threadId: string, joinId: string): boolean {
  return /^\[\d+\]$/.test(threadId.slice(joinId.length));
}
