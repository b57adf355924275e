/**
 * The worker function: consumes a dedicated activity queue (an activity that
 * names a region, `urn:cascade:activity:validate@us-east`), runs the activity
 * and sends its outcome back to the transition queue.
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createRuntimeFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import { handleSqsEvent } from "../lib/runtime/batch.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const runtime: Runtime = await createRuntimeFromEnv();

export function handleWork(event: SQSEvent, target: Runtime = runtime): Promise<SQSBatchResponse> {
  return handleSqsEvent(target, event);
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) => handleWork(event));
