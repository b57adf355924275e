/**
 * Dead letters: a message that kept failing fails what it concerns, through the
 * workflow's own catch and tolerance (DESIGN.md invariant 12) — the attempt of a run
 * or work message, the thread of an event, the branch of a start (its join hears it as
 * a failed branch), the waiting thread of a join's report or completion.
 */
import { branchThreadId, type ThreadEvent, type WorkflowError } from "../core/engine/index.ts";
import type { OutMessage } from "../core/ports.ts";
import { applyEvent } from "./commit.ts";
import type { RuntimeContext } from "./context.ts";
import { processMessage } from "./dispatch.ts";
import { MESSAGE_IDS } from "./message-ids.ts";
import type { Work } from "./unit-of-work.ts";

/** The error name of work the runtime gave up on (a dead-lettered message). */
export const RUNTIME_FAILURE = "Cascade.RuntimeFailure";

/** Fails what a dead-lettered message concerned, in `work`. */
export async function failDeadLetter(
  rt: RuntimeContext,
  work: Work,
  envelope: OutMessage,
): Promise<void> {
  const body = envelope.body;
  const header = body.header;
  const note = await rt.store.lastFailure(header);
  const error: WorkflowError = {
    name: RUNTIME_FAILURE,
    message: `a message of this execution (${body.kind}) failed repeatedly and was dead-lettered${note ? `: ${note.reason}` : ""}`,
    retryable: false,
  };
  const mid = MESSAGE_IDS.deadLetter(envelope.mid);
  const abort = (thread: string, event: ThreadEvent = { type: "Aborted", error }) =>
    applyEvent(rt, work, header, thread, event, mid);
  switch (body.kind) {
    case "run":
      // A run that carries an uncommitted step (a branch's or a start's first, a join's
      // continuation) carries its thread's only state: fail the attempt from it.
      if ((body.version === 0 || body.events !== undefined) && body.thread) {
        await applyEvent(
          rt,
          work,
          header,
          body.token.thread,
          { type: "ActivityFailed", token: body.token, error },
          mid,
          {
            thread: body.thread,
            version: body.version,
            ...(body.events === undefined ? {} : { pending: body.events }),
          },
        );
      } else {
        await abort(body.token.thread, { type: "ActivityFailed", token: body.token, error });
      }
      break;
    case "work":
      await abort(body.token.thread, { type: "ActivityFailed", token: body.token, error });
      break;
    case "event":
    case "take-event":
      await abort(body.thread);
      break;
    case "branch": {
      const thread = branchThreadId(body.joinId, body.index);
      await abort(thread);
      // Its join hears of it as a failed branch: the join's tolerance decides.
      await processMessage(
        rt,
        work,
        `${mid}/finished`,
        {
          kind: "finished",
          header,
          joinId: body.joinId,
          index: body.index,
          status: "failed",
          error,
        },
        { receiveCount: 1 },
      );
      break;
    }
    case "finished":
    case "collect-join":
    case "join-complete": {
      const join = await rt.store.getJoin(header, body.joinId);
      const parent =
        body.kind === "join-complete"
          ? body.parent
          : join && { thread: join.join.parentThread, step: join.join.parentStep };
      if (parent) {
        await abort(parent.thread, {
          type: "JoinCompleted",
          token: parent,
          outcome: { status: "failed", error },
        });
      }
      break;
    }
    case "read-items":
      // The Map's items could not be read: the Map fails, through its catch.
      await applyEvent(
        rt,
        work,
        header,
        body.token.thread,
        { type: "ItemsRead", token: body.token, error },
        mid,
      );
      break;
    case "cancel-join":
    case "start-branches":
      // What they would stop or start belongs to a thread that has ended or fanned out again.
      break;
    default: {
      const unreachable: never = body;
      throw new Error(`unknown message kind ${JSON.stringify(unreachable)}`);
    }
  }
}
