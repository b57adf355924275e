/**
 * The api function: the HTTP API behind API Gateway (HTTP API, payload format
 * 2.0). Clients, the store and the app's definitions are built once at module
 * scope and reused across invocations; every request is one call of the handler.
 */

import { join } from "node:path";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createServicesFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import { CloudWatchMetricsReader } from "../lib/adapters/aws/cloudwatch-metrics.ts";
import { readConsoleDir, withConsole } from "../lib/api/console.ts";
import { type ApiHandler, createApiHandler } from "../lib/api/index.ts";
import { EmfMetrics } from "../lib/runtime/metrics.ts";

const services = await createServicesFromEnv();
const routes: ApiHandler = createApiHandler({
  runtime: services.runtime,
  store: services.store,
  payloads: services.payloads,
  definitions: services.definitions,
  app: services.app,
  config: services.appConfig,
  metrics: new CloudWatchMetricsReader(new CloudWatchClient({ maxAttempts: 3 })),
  // Each request's own latency (ApiLatency), an EMF line on standard output: the p99 alarm's.
  metricsSink: new EmfMetrics((line) => process.stdout.write(`${line}\n`)),
});
// The console's files, staged beside the app by the CDK construct when the package has them
// built (`GET /` and `/console/*`, behind the API's own authorizer); else the API alone.
const consoleAssets = readConsoleDir(join(services.appConfig.dir, "console"));
const api: ApiHandler = consoleAssets ? withConsole(routes, consoleAssets) : routes;

/** The inner handler, exported for tests. */
export async function handleRequest(
  event: APIGatewayProxyEventV2,
  target: ApiHandler = api,
): Promise<APIGatewayProxyStructuredResultV2> {
  const answer = await target(event);
  // A start's root span goes out before Lambda freezes the environment (only when CASCADE_TRACES=otlp).
  await services.tracing?.flush();
  return answer;
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(services.logger))
  .handler((event) => handleRequest(event));
