/**
 * The engine function: consumes the transition queue. Each record runs one step
 * of one execution (a Task's activity included); failed records are reported
 * so only they are redelivered (ReportBatchItemFailures).
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { processBatch } from "../lib/runtime/batch.ts";
import { createRuntimeFromEnv } from "../lib/runtime/from-env.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const runtime: Runtime = await createRuntimeFromEnv();

/** The inner handler, exported for tests. */
export async function handleTransitions(
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
    (record, error) =>
      console.error(
        JSON.stringify({
          level: "error",
          message: "record failed",
          record: record.id,
          error: String(error),
        }),
      ),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) =>
  handleTransitions(event),
);
