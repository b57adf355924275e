/** The HTTP API of a local stack: the same handler as the `api` Lambda, behind a local server. */
import type { AppConfig } from "../app/config.ts";
import type { LocalStack } from "./stack.ts";

/** A running HTTP server. */
export interface ServedApi {
  readonly url: string;
  readonly port: number;
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
}): Promise<ServedApi> {
  const { stack, config } = options;
  // Until lib/api and lib/local/http-server.ts land: resolved at run time.
  const apiModule = "../api/index.ts";
  const serverModule = "./http-server.ts";
  const { createApiHandler } = (await import(apiModule)) as {
    createApiHandler: (deps: Record<string, unknown>) => unknown;
  };
  const { startHttpServer } = (await import(serverModule)) as {
    startHttpServer: (options: {
      handler: unknown;
      port: number;
      host: string;
    }) => Promise<{ url: string; port: number; close(): Promise<void> }>;
  };
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: config.name,
    config,
    clock: { now: () => Date.now() },
  });
  const server = await startHttpServer({ handler, port: options.port, host: options.host });
  return { url: server.url, port: server.port, close: () => server.close() };
}
