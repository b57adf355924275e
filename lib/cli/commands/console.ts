/**
 * `cascade console --endpoint URL [--profile P | --sigv4 | --token T] [--port N]`: the
 * web console of a deployed app, served on this machine, its API calls forwarded with
 * the CLI's credentials (see console-proxy.ts). Runs until Ctrl-C.
 */
import { loadConsoleAssets } from "../../local/console-assets.ts";
import { startHttpServer } from "../../local/http-server.ts";
import { resolveEndpoint } from "../api-client.ts";
import { consoleProxy } from "../console-proxy.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { credentialsFor, type ProcessCommonOptions } from "./process.ts";

/** The proxy's default port: beside `cascade dev`'s API (4000) and console (4001). */
export const CONSOLE_PROXY_PORT = 4100;

export interface ConsoleCommandOptions
  extends Pick<ProcessCommonOptions, "endpoint" | "token" | "profile" | "region" | "sigv4"> {
  readonly port?: number;
  readonly host?: string;
}

/**
 * Serves the console until `stopSignal` aborts (default: SIGINT or SIGTERM).
 * @returns 0 after a clean stop; 69 when the port is taken or the console is not built
 */
export async function runConsole(
  options: ConsoleCommandOptions,
  io: CliIo,
  stopSignal?: AbortSignal,
): Promise<ExitCode> {
  const endpoint = resolveEndpoint(options.endpoint, io).url;
  const assets = await loadConsoleAssets().catch(() => undefined);
  if (!assets) {
    io.stderr(
      "cascade console: the console is not built here: run `npm run build:console` in a checkout (the published package has it)\n",
    );
    return EXIT.UNAVAILABLE;
  }
  const credentials = await credentialsFor(endpoint, options, io);
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer({
      handler: consoleProxy({
        endpoint,
        assets,
        ...credentials,
        log: (line) => io.stderr(`${line}\n`),
      }),
      port: options.port ?? CONSOLE_PROXY_PORT,
      host: options.host ?? "127.0.0.1",
      warn: (line) => io.stderr(`${line}\n`),
    });
  } catch (error) {
    io.stderr(`cascade console: cannot listen: ${(error as Error).message}\n`);
    return EXIT.UNAVAILABLE;
  }
  const how = credentials.sign
    ? `signed with SigV4${options.profile ? ` as profile ${options.profile}` : ""}`
    : credentials.token
      ? "with your bearer token"
      : "with no credentials";
  io.stdout(`console  ${server.url}/\nAPI      ${endpoint} (calls ${how})\nstop     Ctrl-C\n`);
  await new Promise<void>((resolveStop) => {
    if (stopSignal?.aborted) return resolveStop();
    stopSignal?.addEventListener("abort", () => resolveStop(), { once: true });
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolveStop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  await server.close();
  return EXIT.OK;
}
