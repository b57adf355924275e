/**
 * The console's static files beside the API: `withConsole` wraps an API handler so that
 * `GET /` (and `/console/...`) answer the console's page and bundle, and everything
 * else goes to the API as before. The console reads and acts only through `/v1`, the
 * same routes, auth and tenancy as every other client: this serves files, no data.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { ApiHandler } from "./handler.ts";

/** One file of the console: its media type and text. */
export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: string;
}

/** The console's files by URL path (`/`, `/console/app.js`, …). */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

/** The built console's files: their names in its folder, the URL path each is served at. */
export const CONSOLE_FILES = [
  { name: "index.html", path: "/", contentType: "text/html; charset=utf-8" },
  { name: "app.js", path: "/console/app.js", contentType: "text/javascript; charset=utf-8" },
  { name: "app.css", path: "/console/app.css", contentType: "text/css; charset=utf-8" },
] as const;

/** The console built into `dir` (`dist/console`, or `console/` in the api function's bundle); undefined when it is not there. */
export function readConsoleDir(dir: string): ConsoleAssets | undefined {
  if (!CONSOLE_FILES.every((f) => existsSync(join(dir, f.name)))) return undefined;
  return new Map(
    CONSOLE_FILES.map((f): [string, ConsoleAsset] => [
      f.path,
      { contentType: f.contentType, body: readFileSync(join(dir, f.name), "utf8") },
    ]),
  );
}

/**
 * What the page may load: only its own files and API (no CDN, no fonts, no frames).
 * Inline styles are the SVG graph's and the timeline's positions.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The answer for a console file, or undefined when `event` is not a GET of one. */
export function consoleAnswer(
  assets: ConsoleAssets,
  event: APIGatewayProxyEventV2,
): APIGatewayProxyStructuredResultV2 | undefined {
  const method = String(event.requestContext?.http?.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") return undefined;
  const path = String(event.rawPath ?? event.requestContext?.http?.path ?? "/");
  const asset = assets.get(path === "/console" || path === "/console/" ? "/" : path);
  if (!asset) return undefined;
  return {
    statusCode: 200,
    headers: {
      "content-type": asset.contentType,
      // The page is small and rebuilt with the package: always revalidate.
      "cache-control": "no-cache",
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
    body: method === "HEAD" ? "" : asset.body,
  };
}

/**
 * The console's files, or a function that gives them when first asked (`cascade dev`
 * bundles them on the first page load, not at its start); undefined or a failure: none.
 */
export type ConsoleSource = ConsoleAssets | (() => Promise<ConsoleAssets | undefined>);

/** `handler`, also answering the console's files. */
export function withConsole(handler: ApiHandler, source: ConsoleSource): ApiHandler {
  const serve = async (event: APIGatewayProxyEventV2) => {
    const assets = typeof source === "function" ? await source().catch(() => undefined) : source;
    return (assets && consoleAnswer(assets, event)) ?? handler(event);
  };
  return Object.assign(serve, { routes: handler.routes });
}
