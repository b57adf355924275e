/**
 * The dead-letter function: a message that failed `maxReceiveCount` times fails
 * its execution with a reason a person can read, so nothing stays running forever.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createServicesFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import type { OutMessage } from "../lib/core/ports.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const services = await createServicesFromEnv();
const runtime: Runtime = services.runtime;

export async function handleDeadLetters(
  event: SQSEvent,
  target: Runtime = runtime,
): Promise<SQSBatchResponse> {
  const failed: string[] = [];
  for (const record of event.Records) {
    let envelope: OutMessage;
    try {
      envelope = JSON.parse(record.body) as OutMessage;
    } catch {
      continue; // not a Cascade message: there is no execution to fail, drop it
    }
    if (!envelope?.body?.header) continue;
    try {
      await target.deadLetter(envelope);
    } catch {
      failed.push(record.messageId);
    }
  }
  // The spans of the executions it failed go out before Lambda freezes the environment.
  await services.tracing?.flush();
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(services.logger))
  .handler((event) => handleDeadLetters(event));
