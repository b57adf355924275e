/**
 * The engine function: consumes the transition queue. Each record runs one step
 * of one execution (a Task's activity included); failed records are reported
 * so only they are redelivered (ReportBatchItemFailures).
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

/** The inner handler, exported for tests. */
export async function handleTransitions(
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
  .handler((event) => handleTransitions(event));
