/**
 * The worker function: consumes a dedicated activity queue (an activity that
 * names a worker pool, `urn:cascade:activity:validate@us-east`), runs the activity
 * and sends its outcome back to the transition queue.
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createServicesFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import { recordFailureLog } from "../lib/adapters/aws/powertools-log.ts";
import { handleSqsEvent } from "../lib/runtime/batch.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

const services = await createServicesFromEnv();
const runtime: Runtime = services.runtime;
const logFailure = recordFailureLog(services.logger);

export async function handleWork(
  event: SQSEvent,
  target: Runtime = runtime,
): Promise<SQSBatchResponse> {
  const answer = await handleSqsEvent(target, event, logFailure);
  // Spans go out before Lambda freezes the environment (only when CASCADE_TRACES=otlp).
  await services.tracing?.flush();
  return answer;
}

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(services.logger))
  .handler((event) => handleWork(event));
