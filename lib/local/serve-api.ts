/**
 * The HTTP API of a local stack: the same handler as the `api` Lambda, behind a local
 * server; and the console on a port of its own, whose page calls that same handler
 * under `/v1` on its own origin (so the API port needs no CORS).
 */
import { type ConsoleSource, withConsole } from "../api/console.ts";
import { createApiHandler } from "../api/index.ts";
import type { AppConfig } from "../app/config.ts";
import type { MetricsReader } from "../core/metrics-query.ts";
import type { MetricsSink } from "../core/ports.ts";
import { startHttpServer } from "./http-server.ts";
import type { LocalStack } from "./stack.ts";

/** A running HTTP server. */
export interface ServedApi {
  readonly url: string;
  readonly port: number;
  /** The console's URL (`http://127.0.0.1:4001/`), when it is served. */
  readonly consoleUrl?: string;
  close(): Promise<void>;
}

/**
 * Serves the API of `stack` on `host:port` (0: any free port).
 * @throws the listen error (`EADDRINUSE` when the port is taken).
 */
export async function serveApi(options: {
  readonly stack: LocalStack;
  readonly config: AppConfig;
  readonly port: number;
  readonly host: string;
  /** What `GET /v1/apps/{app}/metrics/...` reads (the local metrics store). */
  readonly metrics?: MetricsReader;
  /** Where each request's own latency goes (the local metrics store). */
  readonly metricsSink?: MetricsSink;
  /** The console's files (or what gives them on the first request); without it no console is served. */
  readonly console?: ConsoleSource;
  /** The console's port: default the API's + 1 (0 when the API's is 0: any free port). */
  readonly consolePort?: number;
}): Promise<ServedApi> {
  const { stack, config } = options;
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: config.name,
    config,
    local: true,
    clock: { now: () => Date.now() },
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.metricsSink ? { metricsSink: options.metricsSink } : {}),
  });
  const server = await startHttpServer({ handler, port: options.port, host: options.host });
  if (!options.console) return { url: server.url, port: server.port, close: () => server.close() };
  let page: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    page = await startHttpServer({
      handler: withConsole(handler, options.console),
      port: options.consolePort ?? (options.port === 0 ? 0 : options.port + 1),
      host: options.host,
      // The API's own server printed the warning for a non-loopback bind.
      warn: () => {},
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    url: server.url,
    port: server.port,
    consoleUrl: `${page.url}/`,
    close: async () => {
      await Promise.all([server.close(), page.close()]);
    },
  };
}
