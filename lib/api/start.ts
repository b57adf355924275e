/** Starting an execution from a request: idempotent on its id, optionally waiting for its end. */
import type { JsonValue } from "../core/expr/index.ts";
import type { ExecutionView } from "../core/ports.ts";
import { describeExecution, MAX_ANSWER_VALUE_BYTES } from "../runtime/queries.ts";
import { StartError } from "../runtime/runtime.ts";
import type { RouteEnv } from "./env.ts";
import { HttpError } from "./errors.ts";
import type { Reply } from "./request.ts";
import { details, inputPath, links, summary } from "./views.ts";

/** The longest pause between two polls of a synchronous start, in ms. */
const MAX_POLL_PAUSE_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the execution ends or `seconds` pass (`?wait=` of a start or of GET execution). */
export async function waitForEnd(
  env: RouteEnv,
  tenant: string,
  id: string,
  seconds: number,
): Promise<ExecutionView | undefined> {
  const deadline = env.now() + seconds * 1000;
  let pause = 20;
  for (;;) {
    const view = await env.deps.store.getExecution(tenant, id);
    if (view && view.thread.status !== "running") return view;
    const left = deadline - env.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(pause, left));
    pause = Math.min(pause * 1.5, MAX_POLL_PAUSE_MS);
  }
}

/**
 * Starts `workflow` (idempotently on `id`) and, with `wait` seconds, waits for its end:
 * 200 with the ended execution, else 202 (200 for a retried start) with its summary.
 * @throws HttpError UNKNOWN_WORKFLOW, INVALID_ID, INVALID_INPUT, ID_CONFLICT
 */
export async function startExecution(
  env: RouteEnv,
  tenant: string,
  workflow: string,
  input: JsonValue,
  id: string | undefined,
  wait: number | undefined,
): Promise<Reply> {
  env.currentWorkflow(workflow);
  if (id !== undefined) env.checkId(id);
  let started: Awaited<ReturnType<RouteEnv["deps"]["runtime"]["startExecution"]>>;
  try {
    started = await env.deps.runtime.startExecution(workflow, input, {
      tenant,
      ...(id === undefined ? {} : { id }),
    });
  } catch (error) {
    if (error instanceof StartError) {
      throw new HttpError(error.code, error.message, {
        ...(error.problems.length > 0
          ? {
              problems: error.problems.map((p) => ({
                path: inputPath(p.path),
                message: p.message,
              })),
            }
          : {}),
      });
    }
    throw error;
  }
  const location = links(env.deps.app, started.executionId).self;
  let waitedMs: number | undefined;
  if (wait !== undefined && wait > 0) {
    const since = env.now();
    const ended =
      started.record.thread.status !== "running"
        ? started.record
        : await waitForEnd(env, tenant, started.executionId, wait);
    waitedMs = env.now() - since;
    if (ended)
      return {
        status: 200,
        body: details(
          await describeExecution(ended, env.codec, env.deps.store, false, MAX_ANSWER_VALUE_BYTES),
        ),
        headers: { location },
        waitedMs,
      };
  }
  return {
    status: started.created ? 202 : 200,
    body: summary(started.record),
    headers: { location },
    ...(waitedMs === undefined ? {} : { waitedMs }),
  };
}
