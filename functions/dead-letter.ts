/**
 * The dead-letter function: a message that failed `maxReceiveCount` times fails
 * its execution with a reason a person can read, so nothing stays running forever.
 */
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { OutMessage } from "../lib/core/ports.ts";
import { createRuntimeFromEnv } from "../lib/runtime/from-env.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const runtime: Runtime = await createRuntimeFromEnv();

export async function handleDeadLetters(
  event: SQSEvent,
  target: Runtime = runtime,
): Promise<SQSBatchResponse> {
  const failed: string[] = [];
  for (const record of event.Records) {
    try {
      const envelope = JSON.parse(record.body) as OutMessage;
      if (!envelope?.body?.header) continue; // not ours: nothing to fail, drop it
      await target.deadLetter(envelope);
    } catch {
      failed.push(record.messageId);
    }
  }
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = middy<SQSEvent, SQSBatchResponse>().handler((event) =>
  handleDeadLetters(event),
);
