/**
 * `cascade console`: the web console of a deployed app, on this machine. A browser does
 * not sign requests (`auth: iam`) nor add a bearer token to a page (`auth: jwt`), so the
 * console's page is served here and its calls to `/v1` are forwarded to the deployed
 * API with the CLI's credentials — SigV4 from the AWS credential chain, or the token —
 * as `kubectl proxy` does for a cluster. Only `/v1` goes through, with the request's
 * method, path, query, body and media type; no cookie, origin or tenant header of the
 * page's: on AWS the tenant comes from the identity that signs. The local server's
 * guards (loopback host and origin, JSON writes) keep other sites' pages from using the
 * credentials.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type ConsoleAssets, consoleAnswer } from "../api/console.ts";
import type { HttpApiHandler } from "../local/http-server.ts";
import type { RequestSigner } from "./sigv4.ts";

/** How long a forwarded call may take: a sync start waits up to 29 s. */
export const PROXY_TIMEOUT_MS = 60_000;

/** Answer headers passed back to the page (the rest are the deployed API's own business). */
const PASSED_BACK = ["content-type", "location", "allow", "retry-after"] as const;

export interface ConsoleProxyOptions {
  /** The deployed API's base URL (`https://<id>.execute-api.<region>.amazonaws.com`). */
  readonly endpoint: string;
  /** The console's page and bundle. */
  readonly assets: ConsoleAssets;
  /** Signs each forwarded call (`auth: iam`). */
  readonly sign?: RequestSigner;
  /** A bearer token added to each forwarded call (`auth: jwt`). */
  readonly token?: string;
  /** Notes a forwarded call's failure to reach the API (the page gets a 502). */
  readonly log?: (line: string) => void;
}

/** The proxy as an HTTP API handler, for `startHttpServer` (which applies the local guards). */
export function consoleProxy(options: ConsoleProxyOptions): HttpApiHandler {
  const base = options.endpoint.replace(/\/+$/, "");
  return async (event) => {
    const page = consoleAnswer(options.assets, event);
    if (page) return page;
    const path = String(event.rawPath ?? "/");
    if (path !== "/v1" && !path.startsWith("/v1/"))
      return error(404, "UNKNOWN_ROUTE", `this console proxy serves the page and /v1 only`);
    return forward(base, event, options);
  };
}

async function forward(
  base: string,
  event: APIGatewayProxyEventV2,
  options: ConsoleProxyOptions,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = String(event.requestContext?.http?.method ?? "GET").toUpperCase();
  const url = new URL(
    `${base}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`,
  );
  const body =
    event.body === undefined || method === "GET" || method === "HEAD"
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body;
  let headers: Record<string, string> = { accept: "application/json" };
  const type = event.headers?.["content-type"];
  if (body !== undefined) headers["content-type"] = type ?? "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.sign)
    headers = await options.sign({ method, url, headers, ...(body === undefined ? {} : { body }) });
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: "manual",
      signal: AbortSignal.timeout(PROXY_TIMEOUT_MS),
    });
  } catch (cause) {
    options.log?.(
      `cascade console: ${method} ${url.pathname} did not reach ${base}: ${String(cause)}`,
    );
    return error(502, "API_UNREACHABLE", `the deployed API at ${base} did not answer`);
  }
  const out: Record<string, string> = {};
  for (const name of PASSED_BACK) {
    const value = response.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return { statusCode: response.status, headers: out, body: await response.text() };
}

function error(status: number, code: string, message: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { code, message } }),
  };
}
