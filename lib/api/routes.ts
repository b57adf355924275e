/**
 * The API's routes as data: one table that the handler dispatches on and the
 * OpenAPI test compares with docs/openapi.yaml, so the two cannot drift.
 */
import { HttpError } from "./errors.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** Every route the handler serves, by operation id; `{name}` is a path parameter. */
export const ROUTES = {
  listApps: { method: "GET", path: "/v1/apps" },
  getApp: { method: "GET", path: "/v1/apps/{app}" },
  listWorkflows: { method: "GET", path: "/v1/apps/{app}/workflows" },
  getWorkflow: { method: "GET", path: "/v1/apps/{app}/workflows/{workflow}" },
  startExecution: { method: "POST", path: "/v1/apps/{app}/workflows/{workflow}/executions" },
  listExecutions: { method: "GET", path: "/v1/apps/{app}/executions" },
  getExecution: { method: "GET", path: "/v1/apps/{app}/executions/{id}" },
  getHistory: { method: "GET", path: "/v1/apps/{app}/executions/{id}/history" },
  cancelExecution: { method: "POST", path: "/v1/apps/{app}/executions/{id}/cancel" },
  sendEvent: { method: "POST", path: "/v1/apps/{app}/executions/{id}/events" },
  validateWorkflow: { method: "POST", path: "/v1/validate" },
} as const satisfies Record<string, { method: HttpMethod; path: string }>;

export type OperationId = keyof typeof ROUTES;

/** A request matched to its route, with its decoded path parameters. */
export interface RouteMatch {
  readonly operation: OperationId;
  readonly params: Readonly<Record<string, string>>;
}

const splitPath = (path: string): string[] => path.split("/").filter((s) => s !== "");

const COMPILED = Object.entries(ROUTES).map(([operation, route]) => ({
  operation: operation as OperationId,
  method: route.method as HttpMethod,
  segments: splitPath(route.path),
}));

function matchSegments(
  template: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (template.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const want = template[i] ?? "";
    const got = actual[i] ?? "";
    if (want.startsWith("{") && want.endsWith("}")) {
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return undefined;
      }
      params[want.slice(1, -1)] = value;
    } else if (want !== got) return undefined;
  }
  return params;
}

/**
 * Finds the route of a request.
 * @throws HttpError UNKNOWN_ROUTE when no route has that path, METHOD_NOT_ALLOWED
 * (with an `allow` header) when routes have the path but not the method.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const actual = splitPath(path);
  const allowed: HttpMethod[] = [];
  for (const route of COMPILED) {
    const params = matchSegments(route.segments, actual);
    if (params === undefined) continue;
    if (route.method === method) return { operation: route.operation, params };
    allowed.push(route.method);
  }
  if (allowed.length > 0) {
    throw new HttpError(
      "METHOD_NOT_ALLOWED",
      `${method} is not allowed on ${path}; use ${allowed.join(" or ")}`,
      { headers: { allow: allowed.join(", ") } },
    );
  }
  throw new HttpError("UNKNOWN_ROUTE", `no route ${method} ${path}; the API lives under /v1`);
}
