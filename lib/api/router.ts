/**
 * The router: a route is a method, a path template and the requests it takes; the
 * route groups (`routes/*.ts`) each export their routes, and `match` finds the one a
 * request is for, or answers 404 UNKNOWN_ROUTE / 405 METHOD_NOT_ALLOWED.
 */
import { HttpError } from "./errors.ts";
import type { Context, Reply, RequestRules } from "./request.ts";

/** A route the API serves: its method, path template and the query parameters it takes. */
export interface RouteSpec extends RequestRules {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** With `{param}` segments, as in the OpenAPI document. */
  readonly path: string;
  readonly operationId: string;
}

/** A route with its implementation. */
export interface Route extends RouteSpec {
  readonly run: (ctx: Context) => Promise<Reply>;
}

/** Path segments longer than this match no route (ids are at most 128 characters). */
export const MAX_SEGMENT_CHARS = 1024;

/** The route for `method path`, with its decoded `{param}` segments. */
export interface Match {
  readonly route: Route;
  readonly params: Record<string, string>;
}

/** A matcher over `routes` (templates) and `exact` (trigger paths, matched as written). */
export function createRouter(
  routes: readonly Route[],
  exact: readonly Route[] = [],
): (method: string, path: string) => Match {
  const templates = routes.map((route) => ({ route, parts: route.path.split("/").slice(1) }));
  return (method, path) => {
    const segments = path.split("/").slice(1);
    const allowed = new Set<string>();
    for (const { route, parts } of templates) {
      if (parts.length !== segments.length) continue;
      const params: Record<string, string> = Object.create(null);
      let ok = true;
      for (const [i, part] of parts.entries()) {
        const segment = segments[i] ?? "";
        if (part.startsWith("{")) {
          if (segment === "" || segment.length > MAX_SEGMENT_CHARS) {
            ok = false;
            break;
          }
          try {
            params[part.slice(1, -1)] = decodeURIComponent(segment);
          } catch {
            ok = false;
            break;
          }
        } else if (part !== segment) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method === method) return { route, params };
      allowed.add(route.method);
    }
    for (const route of exact) {
      if (route.path.replace(/\/+$/, "") !== path) continue;
      if (route.method === method) return { route, params: Object.create(null) };
      allowed.add(route.method);
    }
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    if (allowed.size > 0)
      throw new HttpError(
        "METHOD_NOT_ALLOWED",
        `${method.slice(0, 20)} is not allowed on ${shown} (allowed: ${[...allowed].join(", ")})`,
        { headers: { allow: [...allowed].join(", ") } },
      );
    throw new HttpError(
      "UNKNOWN_ROUTE",
      `no route ${method.slice(0, 20)} ${shown} (the API is under /v1; see docs/openapi.yaml)`,
    );
  };
}
