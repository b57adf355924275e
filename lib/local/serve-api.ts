/** The HTTP API of a local stack: the same handler as the `api` Lambda, behind a local server. */
import { createApiHandler } from "../api/index.ts";
import type { AppConfig } from "../app/config.ts";
import { startHttpServer } from "./http-server.ts";
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
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: config.name,
    config,
    local: true,
    clock: { now: () => Date.now() },
  });
  const server = await startHttpServer({ handler, port: options.port, host: options.host });
  return { url: server.url, port: server.port, close: () => server.close() };
}
