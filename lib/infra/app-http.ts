import { Validations } from "aws-cdk-lib";
import { type CfnStage, HttpApi, HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { Scaling } from "../app/config.ts";
import { LOG_RETENTION } from "./app-parts.ts";
import type { AppModel } from "./model.ts";

/** The HTTP API in front of `apiTarget` (the api function, or its `live` alias). */
export function createHttpApi(
  scope: Construct,
  config: AppModel["config"],
  apiTarget: lambda.IFunction,
): HttpApi {
  const { auth } = config;
  const authorizer =
    auth.type === "jwt" && auth.issuer !== undefined
      ? new HttpJwtAuthorizer("Jwt", auth.issuer, { jwtAudience: [...(auth.audience ?? [])] })
      : auth.type === "iam"
        ? new HttpIamAuthorizer()
        : undefined;
  const httpApi = new HttpApi(scope, "HttpApi", {
    description: `Cascade ${config.name}`,
    ...(authorizer ? { defaultAuthorizer: authorizer } : {}),
  });
  if (!authorizer) {
    Validations.of(httpApi).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "cascade.yaml opts in to an open API explicitly (auth: { type: none, public: true }); such an app serves one tenant.",
    });
  }
  const integration = new HttpLambdaIntegration("ApiIntegration", apiTarget);
  httpApi.addRoutes({ path: "/v1/{proxy+}", methods: [HttpMethod.ANY], integration });
  // The web console's page and files, served by the same function behind the same authorizer.
  for (const path of ["/", "/console/{proxy+}"])
    httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration });
  for (const trigger of config.triggers) {
    httpApi.addRoutes({
      path: trigger.path,
      methods: [HttpMethod[trigger.method]],
      integration,
    });
  }
  const accessLogs = new LogGroup(scope, "ApiAccessLogs", { retention: LOG_RETENTION });
  const stage = httpApi.defaultStage?.node.defaultChild as CfnStage | undefined;
  if (stage) {
    const limit = apiRateLimit(config.autoscaling.api);
    stage.defaultRouteSettings = {
      throttlingBurstLimit: limit.burst,
      throttlingRateLimit: limit.rate,
    };
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify(ACCESS_LOG_FORMAT),
    };
  }
  return httpApi;
}

/**
 * The API's `autoscaling.max` as stage throttling: a function has no replica count, and
 * reserving concurrency would fail on new accounts (their quota is 10). At about a
 * second per request, `max` requests per second keep about `max` instances busy.
 */
export function apiRateLimit(scaling: Scaling): { rate: number; burst: number } {
  const max = Math.max(1, scaling.max);
  return { rate: max, burst: max * 2 };
}

/** One JSON line per request in the API's access log. */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  time: "$context.requestTime",
  method: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integrationLatency",
  error: "$context.error.message",
  integrationError: "$context.integrationErrorMessage",
} as const;
