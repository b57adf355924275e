/**
 * The HTTP API: versioned JSON routes over the runtime and the store, as one
 * handler of API Gateway HTTP API (payload v2) events. The `api` Lambda and the
 * local server (`lib/local/http-server.ts`) run this same function.
 *
 * This file only composes the parts: the router (router.ts), request decoding
 * (request.ts), tenancy (tenancy.ts), the route groups (routes/), and the error
 * answers (errors.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type ApiDeps, MAX_REQUEST_BODY_BYTES } from "./deps.ts";
import { createRouteEnv } from "./env.ts";
import { fromCoded } from "./errors.ts";
import { decodeRequest, type Reply } from "./request.ts";
import { createRouter, type RouteSpec } from "./router.ts";
import { ROUTE_GROUPS, triggerRoutes } from "./routes/index.ts";
import { createTenancy } from "./tenancy.ts";

/** An API handler: HTTP API payload v2 event in, structured result out. Never throws. */
export type ApiHandler = ((
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>) & {
  /** The routes it serves (HTTP triggers aside), as documented in docs/openapi.yaml. */
  readonly routes: readonly RouteSpec[];
};

const answer = (reply: Reply, requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: reply.status,
  headers: {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    "x-request-id": requestId,
    ...reply.headers,
  },
  body: JSON.stringify(reply.body),
});

/**
 * Builds the API handler. It never throws: every failure is an answer
 * `{error: {code, message, problems?}}` with the code's status (see `API_ERRORS`).
 */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = createRouteEnv(deps);
  const routes = ROUTE_GROUPS.flatMap((group) => group(env));
  const match = createRouter(routes, triggerRoutes(env));
  const tenantOf = createTenancy({ config: deps.config, local: deps.local === true });
  const now = () => deps.clock?.now() ?? Date.now();

  const handle = async (
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const began = now();
    let waitedMs = 0;
    try {
      return await answerOf(event, (ms) => {
        waitedMs = ms;
      });
    } finally {
      deps.metricsSink?.apiLatency?.(deps.app, Math.max(0, now() - began - waitedMs), now());
    }
  };

  const answerOf = async (
    event: APIGatewayProxyEventV2,
    waited: (ms: number) => void,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = String(event?.requestContext?.requestId ?? "").slice(0, 128);
    try {
      const method = String(event.requestContext?.http?.method ?? "GET").toUpperCase();
      const rawPath = String(event.rawPath ?? event.requestContext?.http?.path ?? "/");
      const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, "") : rawPath;
      const { route, params } = match(method, path);
      const { text, mediaType, query } = decodeRequest(event, route, maxBodyBytes);
      const tenant = tenantOf(event);
      const reply = await route.run({ event, params, query, tenant, text, mediaType });
      if (reply.waitedMs !== undefined) waited(reply.waitedMs);
      return answer(reply, requestId);
    } catch (caught) {
      const failure = fromCoded(caught);
      if (failure) {
        return answer(
          {
            status: failure.status,
            body: {
              error: {
                code: failure.code,
                message: failure.message,
                ...(failure.problems ? { problems: failure.problems } : {}),
              },
            },
            ...(failure.headers ? { headers: { ...failure.headers } } : {}),
          },
          requestId,
        );
      }
      log(
        `cascade api ${requestId}: ${caught instanceof Error ? (caught.stack ?? caught.message) : String(caught)}`,
      );
      return answer(
        {
          status: 500,
          body: {
            error: {
              code: "INTERNAL",
              message: `the API failed to answer (request ${requestId}); see the function's log`,
            },
          },
        },
        requestId,
      );
    }
  };
  const specs: RouteSpec[] = routes.map(({ run: _run, ...spec }) => spec);
  return Object.assign(handle, { routes: specs });
}
