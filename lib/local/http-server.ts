/**
 * A local stand-in for API Gateway's HTTP API: each request becomes a payload
 * format 2.0 event for the same handler the `api` Lambda runs, and the handler's
 * structured result is written back.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** A handler of HTTP API (payload v2) events, like `createApiHandler`'s. */
export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Lambda's limit on a synchronous invocation's request payload: 6 MB. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/**
 * The local server's own guards, before the handler runs. It has no auth, so:
 * - a `Host` that is not `localhost` or an IP address is refused (DNS rebinding needs
 *   a host name that resolves to this machine);
 * - an `Origin` (or `Sec-Fetch-Site: cross-site`) from anything but a loopback address
 *   is refused (no cross-site POST from a web page, no reading answers from one);
 * - a write (any method but GET, HEAD, OPTIONS) must say `content-type:
 *   application/json` (or application/yaml): a web page cannot send those without a
 *   CORS preflight, which this server never grants.
 * @returns the refusal's status, code and message, or undefined to serve the request.
 */
export function refuseLocal(
  request: Pick<IncomingMessage, "method" | "headers">,
): { status: number; code: string; message: string } | undefined {
  const host = String(request.headers.host ?? "");
  if (!isLocalHost(hostName(host)))
    return {
      status: 403,
      code: "FORBIDDEN_ORIGIN",
      message: `the local API answers requests for localhost or an IP address, not '${host.slice(0, 100)}'`,
    };
  const origin = request.headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(String(origin)))
    return {
      status: 403,
      code: "FORBIDDEN_ORIGIN",
      message: `the local API does not answer pages of other sites (origin '${String(origin).slice(0, 100)}')`,
    };
  if (request.headers["sec-fetch-site"] === "cross-site")
    return {
      status: 403,
      code: "FORBIDDEN_ORIGIN",
      message: "the local API does not answer cross-site requests",
    };
  const method = (request.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
    const type = String(request.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase();
    if (!type || !WRITE_TYPES.test(type))
      return {
        status: 415,
        code: "UNSUPPORTED_MEDIA_TYPE",
        message: `the local API takes writes as content-type application/json only${type ? `, not ${type.slice(0, 100)}` : ""}`,
      };
  }
  return undefined;
}

/** Media types a web page cannot send cross-origin without a preflight. */
const WRITE_TYPES = /^application\/(?:[\w.+-]*\+)?json$|^(?:application|text)\/(?:x-)?yaml$/;

/** The name part of a Host header (`[::1]:4000` → `::1`). */
function hostName(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? "" : host.slice(1, end);
  }
  const colon = host.lastIndexOf(":");
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

/** `localhost`, `*.localhost`, or an IP address literal. */
function isLocalHost(name: string): boolean {
  return name === "localhost" || name.endsWith(".localhost") || isIP(name) !== 0;
}

/** True for a loopback address or name: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(name: string): boolean {
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) ||
    name === "::ffff:127.0.0.1"
  );
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === "http:" || url.protocol === "https:") && isLoopback(hostName(url.host))
    );
  } catch {
    return false;
  }
}

export interface HttpServerOptions {
  readonly handler: HttpApiHandler;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Larger request bodies are refused with 413 before the handler runs. Default 6 MB (Lambda's). */
  readonly maxBodyBytes?: number;
  /** Where the warning for a non-loopback bind goes. Default: standard error. */
  readonly warn?: (line: string) => void;
}

export interface HttpServer {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const json = (response: ServerResponse, status: number, code: string, message: string): void => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify({ error: { code, message } }));
};

/** Builds the HTTP API payload v2 event of a request, as API Gateway would. */
export function toEvent(
  request: IncomingMessage,
  body: Buffer,
  now: number = Date.now(),
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? "/", "http://local");
  // The path as sent, like API Gateway's rawPath: `..` and `%2e%2e` stay segments (the
  // router refuses them), not steps up to another route.
  const target = request.url ?? "/";
  const rawPath = target.startsWith("/") ? (target.split("?")[0] ?? "/") : url.pathname;
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") {
      cookies = (Array.isArray(value) ? value.join("; ") : value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  // API Gateway joins repeated query parameters with commas.
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = key in query ? `${query[key]},${value}` : value;
  const method = request.method ?? "GET";
  const rawQueryString = url.search.startsWith("?") ? url.search.slice(1) : "";
  const requestId = randomUUID();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: (headers.host ?? "localhost").split(".")[0] ?? "localhost",
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: body.toString("utf8") } : {}),
    isBase64Encoded: false,
  };
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers["set-cookie"] = [...result.cookies];
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8");
  headers["content-length"] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

/**
 * Starts a node:http server that hands every request to `handler` as an API
 * Gateway HTTP API (payload v2) event.
 * @throws the listen error (`EADDRINUSE` when the port is taken).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer((request, response) => {
    const refusal = refuseLocal(request);
    if (refusal) {
      json(response, refusal.status, refusal.code, refusal.message);
      request.resume();
      return;
    }
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      json(
        response,
        413,
        "PAYLOAD_TOO_LARGE",
        `the request body is ${declared} bytes; the limit is ${maxBodyBytes}`,
      );
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        json(
          response,
          413,
          "PAYLOAD_TOO_LARGE",
          `the request body is over ${maxBodyBytes} bytes, the limit`,
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (refused) return;
      const event = toEvent(request, Buffer.concat(chunks));
      options.handler(event).then(
        (result) => writeResult(response, result),
        (error: unknown) => {
          process.stderr.write(
            `cascade api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
          );
          json(response, 500, "INTERNAL", "the API failed to answer; see the server log");
        },
      );
    });
    request.on("error", () => response.destroy());
  });
  // Sync starts wait up to 29 s: keep request timeouts above that.
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  if (!isLoopback(address.address)) {
    const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    warn(
      [
        "",
        "!!! WARNING: the Cascade API is listening on " +
          `${address.address}:${address.port}, which is not a loopback address.`,
        "!!! It has NO authentication: anyone who can reach this machine on that port can",
        "!!! start, cancel and signal executions and run your activities with your credentials.",
        "!!! Bind to 127.0.0.1 (the default) unless you mean it.",
        "",
      ].join("\n"),
    );
  }
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host === "[::]" ? "[::1]" : host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
