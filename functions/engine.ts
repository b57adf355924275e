/**
 * The engine function: consumes the transition queue. Each record runs one step
 * of one execution (a Task's activity included); failed records are reported
 * so only they are redelivered (ReportBatchItemFailures).
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createRuntimeFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import { handleSqsEvent } from "../lib/runtime/batch.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const runtime: Runtime = await createRuntimeFromEnv();

/** The inner handler, exported for tests. */
export function handleTransitions(
  event: SQSEvent,
  target: Runtime = runtime,
): Promise<SQSBatchResponse> {
  return handleSqsEvent(target, event);
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) =>
  handleTransitions(event),
);
