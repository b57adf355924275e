/**
 * The worker function: consumes a dedicated activity queue (an activity that
 * names a region, `urn:cascade:activity:validate@us-east`), runs the activity
 * and sends its outcome back to the transition queue.
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { processBatch } from "../lib/runtime/batch.ts";
import { createRuntimeFromEnv } from "../lib/runtime/from-env.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const runtime: Runtime = await createRuntimeFromEnv();

export async function handleWork(
  event: SQSEvent,
  target: Runtime = runtime,
): Promise<SQSBatchResponse> {
  const failed = await processBatch(
    target,
    event.Records.map((r) => ({
      id: r.messageId,
      body: r.body,
      receiveCount: Number(r.attributes.ApproximateReceiveCount ?? "1"),
    })),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) => handleWork(event));
