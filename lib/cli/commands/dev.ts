/** `cascade dev [APP_DIR]`: the whole app on this machine, until Ctrl-C. */
import { join, relative, resolve } from "node:path";
import { formatProblems } from "../../app/check.ts";
import { ENV_FILE, prepareLocalEnvironment } from "../../app/env-file.ts";
import { APP_CONFIG_FILE } from "../../app/workflows.ts";
import { formatDiagnostic } from "../../core/cdl/index.ts";
import { runDemo } from "../../local/demo.ts";
import { DevError, type DevServer, problemDiagnostics, startDevServer } from "../../local/dev.ts";
import type { LogFormat } from "../../local/transition-log.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

export interface DevCommandOptions {
  readonly port: number;
  /** Default: the API's port + 1. */
  readonly consolePort?: number;
  /** Serve the web console. Default true. */
  readonly console?: boolean;
  readonly host: string;
  readonly ephemeral: boolean;
  readonly dataDir?: string;
  readonly concurrency?: number;
  readonly logFormat: LogFormat;
  readonly watch: boolean;
  readonly demo: boolean;
}

/**
 * Runs `cascade dev` until `stopSignal` aborts (default: SIGINT or SIGTERM).
 * @returns the exit code: 0 after a clean stop, 1 when the app is invalid, 65 when the data
 * folder was written by another version of Cascade, 69 when the port or data folder is taken.
 */
export async function runDev(
  appDir: string,
  options: DevCommandOptions,
  io: CliIo,
  stopSignal?: AbortSignal,
): Promise<ExitCode> {
  const json = options.logFormat === "json";
  const line = (text: string) => io.stdout(`${text}\n`);
  let server: DevServer;
  const { fromEnvFile, missing } = await prepareLocalEnvironment(
    resolve(io.cwd, appDir),
    join(appDir, APP_CONFIG_FILE),
  );
  if (fromEnvFile.length > 0)
    io.stderr(`cascade dev: ${fromEnvFile.length} variable(s) from ${join(appDir, ENV_FILE)}\n`);
  if (missing.length > 0) {
    const message = `${missing.length} secret(s) of cascade.yaml are not set: add them to ${join(appDir, ENV_FILE)} or the environment`;
    if (json)
      io.stderr(
        `${JSON.stringify({ level: "error", kind: "startup", code: "SECRET_MISSING", message, problems: missing })}\n`,
      );
    else {
      for (const d of missing) io.stderr(`${formatDiagnostic(d)}\n`);
      io.stderr(`\ncascade dev: ${message}\n`);
    }
    return EXIT.INVALID;
  }
  try {
    server = await startDevServer({
      dir: appDir,
      cwd: io.cwd,
      port: options.port,
      ...(options.consolePort === undefined ? {} : { consolePort: options.consolePort }),
      ...(options.console === false ? { console: false } : {}),
      host: options.host,
      ephemeral: options.ephemeral,
      ...(options.dataDir === undefined ? {} : { dataDir: resolve(io.cwd, options.dataDir) }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      logFormat: options.logFormat,
      log: line,
      watch: options.watch,
    });
  } catch (error) {
    if (!(error instanceof DevError)) throw error;
    if (json) {
      io.stderr(
        `${JSON.stringify({ level: "error", kind: "startup", code: error.code, message: error.message, problems: problemDiagnostics(error.problems) })}\n`,
      );
    } else {
      if (error.problems.length > 0) io.stderr(`${formatProblems(error.problems)}\n\n`);
      io.stderr(`cascade dev: ${error.message}\n`);
    }
    return error.code === "INVALID_APP"
      ? EXIT.INVALID
      : error.code === "DATA_LAYOUT"
        ? EXIT.INCOMPATIBLE_DATA
        : EXIT.UNAVAILABLE;
  }

  // Listen before saying "ready": a SIGTERM sent on that line must stop cleanly, not kill.
  const stopped = new Promise<void>((resolveStop) => {
    if (stopSignal) {
      if (stopSignal.aborted) resolveStop();
      stopSignal.addEventListener("abort", () => resolveStop(), { once: true });
    }
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolveStop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

  const show = (path: string) => relative(io.cwd, path) || ".";
  const workflows = server.workflows();
  const data = server.dataDir
    ? `${show(server.dataDir)} (kept across restarts; --ephemeral for in-memory)`
    : "in memory (--ephemeral): nothing is kept";
  // cascade.yaml's tracing is the deployed functions': said here, not silently dropped.
  const untraced =
    server.config.tracing.exporter === "otlp"
      ? "tracing.exporter otlp is for the deployed functions: cascade dev does not export traces yet"
      : undefined;
  if (json) {
    if (untraced)
      line(
        JSON.stringify({
          time: new Date().toISOString(),
          level: "warn",
          kind: "tracing",
          message: untraced,
        }),
      );
    line(
      JSON.stringify({
        time: new Date().toISOString(),
        level: "info",
        kind: "ready",
        url: server.url,
        consoleUrl: server.consoleUrl ?? null,
        app: server.config.name,
        workflows,
        data: server.dataDir ?? null,
        pid: process.pid,
      }),
    );
  } else {
    if (server.warnings.length > 0) io.stderr(`${formatProblems(server.warnings)}\n\n`);
    if (untraced) io.stderr(`cascade dev: ${untraced}\n\n`);
    const example = workflows.includes("OrderFulfillment")
      ? `cascade process start --app ${server.config.name} --workflow OrderFulfillment --input '{"customer_id":"c1","cart_items":[{"id":"p1","quantity":1}]}'`
      : `cascade process start --app ${server.config.name} --workflow ${workflows[0] ?? "NAME"} --input '{}'`;
    line(
      [
        "",
        `  Cascade dev — app ${server.config.name} (${show(server.config.dir)})`,
        "",
        `  console     ${server.consoleUrl ?? "off"}`,
        `  API         ${server.url}/v1   (pid ${process.pid})`,
        `  workflows   ${workflows.join(", ")}`,
        `  activities  ${server.activityNames().length} from ${show(server.config.activities)}`,
        `  data        ${data}`,
        `  watching    ${options.watch ? "workflows and activities: edits apply to new executions" : "off"}`,
        "",
        `  try         ${example}`,
        "  stop        Ctrl-C",
        "",
      ].join("\n"),
    );
  }

  server.onReload = (result) => {
    if (json) {
      line(
        JSON.stringify({
          time: new Date().toISOString(),
          level: result.ok ? "info" : "error",
          kind: "reload",
          ok: result.ok,
          changed: result.changed,
          problems: problemDiagnostics(result.problems),
        }),
      );
    } else if (result.ok) {
      line(
        `reloaded: ${result.changed.length > 0 ? `${result.changed.join(", ")} changed (new executions use the new definition; running ones keep theirs)` : "activities reloaded, no workflow changed"}`,
      );
    } else {
      io.stderr(
        `${formatProblems(result.problems)}\nreload refused: the app has errors; still serving the previous version\n`,
      );
    }
  };

  if (options.demo) {
    runDemo(server.stack, workflows, line).catch((error: unknown) =>
      line(`demo: ${(error as Error).message}`),
    );
  }

  await stopped;
  if (json)
    line(JSON.stringify({ time: new Date().toISOString(), level: "info", kind: "stopping" }));
  else line("stopping: finishing the batches in flight…");
  await server.stop();
  if (!json) line("stopped.");
  return EXIT.OK;
}
