/**
 * `cascade dev`: one process running an app on this machine — the embedded
 * emulators (data under `<app>/.cascade/` unless ephemeral), the same runtime,
 * handlers and pollers as on AWS, the HTTP API on one port, a transition log,
 * and reloading of workflows and activities when their files change.
 */

import type { FSWatcher } from "node:fs";
import { existsSync, mkdirSync, rmSync, watch, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { type AppProblem, type AppWorkflow, checkApp, workerPoolsOf } from "../app/check.ts";
import type { AppConfig } from "../app/config.ts";
import type { ActivityFunction } from "../core/activity.ts";
import type { Diagnostic } from "../core/cdl/index.ts";
import { openLocalCache } from "./cache.ts";
import { loadConsoleAssets } from "./console-assets.ts";
import { dataLayoutProblem, readDataLayout, writeDataLayout } from "./data-layout.ts";
import { DATA_DIR_NAME, DEV_STATE_FILE, type DevState, readDevState } from "./dev-state.ts";
import { LocalMetricsStore, METRICS_DIR_NAME } from "./metrics-store.ts";
import { serveApi as defaultServeApi, type serveApi } from "./serve-api.ts";
import { type LocalStack, startLocalStack } from "./stack.ts";
import {
  formatRuntimeLine,
  formatTransition,
  type LogFormat,
  observeHistory,
} from "./transition-log.ts";

/** The default port of `cascade dev`. */
export const DEFAULT_DEV_PORT = 4000;
/**
 * Locally, a queue's visibility timeout when `cascade.yaml` sets none. The pollers
 * keep a message invisible while it is handled (up to its function's timeout), so
 * this only bounds how long a message left in flight by a killed process or a
 * killed invocation waits before it is delivered again.
 */
export const LOCAL_VISIBILITY_TIMEOUT_SECONDS = 5;
/** File changes closer together than this are reloaded once. */
const RELOAD_DEBOUNCE_MS = 150;
/**
 * The reconciler's period and idle threshold on this machine: a process killed between a
 * commit and its sends (or an HTTP call that stopped halfway) is repaired within about
 * half a minute. On AWS it is a scheduled function (minutes).
 */
const RECONCILE_EVERY_MS = 5_000;
const RECONCILE_IDLE_MS = 20_000;

/** Why `cascade dev` cannot start; `problems` lists every validation problem. */
export class DevError extends Error {
  /** `DATA_LAYOUT`: the data folder was written by another version of Cascade. */
  readonly code: "INVALID_APP" | "PORT_IN_USE" | "DATA_DIR_BUSY" | "DATA_LAYOUT";
  readonly problems: readonly AppProblem[];
  constructor(code: DevError["code"], message: string, problems: readonly AppProblem[] = []) {
    super(message);
    this.name = "DevError";
    this.code = code;
    this.problems = problems;
  }
}

export interface DevOptions {
  /** The app folder (holds `cascade.yaml`, `workflows/`, `activities/`). */
  readonly dir: string;
  /** For relative file names in messages. */
  readonly cwd: string;
  /** Default 4000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** In-memory emulators: faster, nothing kept. Default false. */
  readonly ephemeral?: boolean;
  /** Where data persists. Default `<dir>/.cascade`. */
  readonly dataDir?: string;
  /** Batches in flight per queue (Lambda's maximum concurrency). Default: the engine's autoscaling max, at most 16. */
  readonly concurrency?: number;
  readonly logFormat?: LogFormat;
  /** Where transition and activity log lines go. Default: standard output. */
  readonly log?: (line: string) => void;
  /** Watch workflow and activity files and reload them. Default true. */
  readonly watch?: boolean;
  /** Run the emulators on a worker thread. Default true. */
  readonly emulatorThread?: boolean;
  /** Serves the HTTP API. Default: `serveApi` (the API handler behind the local HTTP server). */
  readonly serve?: typeof serveApi;
  /** The console's port: default `port` + 1 (0: any free port). */
  readonly consolePort?: number;
  /** Serve the console. Default true. */
  readonly console?: boolean;
}

/** What a reload did: the workflows whose definition changed, or the problems that kept the old ones. */
export interface ReloadResult {
  readonly ok: boolean;
  readonly changed: readonly string[];
  readonly problems: readonly AppProblem[];
}

export interface DevServer {
  /** The API's base URL, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  /** The console's URL, e.g. `http://127.0.0.1:4001/`; absent when it is off (or not built). */
  readonly consoleUrl?: string;
  readonly port: number;
  readonly config: AppConfig;
  /** Absent when ephemeral. */
  readonly dataDir?: string;
  readonly stack: LocalStack;
  /** Every metric sample the runtime emitted (what `cascade metrics` reads). */
  readonly metrics: LocalMetricsStore;
  /** The workflows being served, by name. */
  workflows(): string[];
  /** The activities being served, by name. */
  activityNames(): string[];
  /** Warnings found when the app was checked. */
  readonly warnings: readonly AppProblem[];
  /** Reads and checks the app again; on success new executions use the new definitions. */
  reload(): Promise<ReloadResult>;
  /** Called after each reload triggered by a file change. */
  onReload?: (result: ReloadResult) => void;
  /** Stops the watcher, the HTTP server, the pollers (waiting for batches in flight) and the emulators. */
  stop(): Promise<void>;
}

/**
 * Checks the app and starts everything.
 * A data folder without data gets this version's layout marker; one with data of
 * another layout (or with data and no marker: an older version's) is refused.
 * @throws DevError INVALID_APP (with every problem), PORT_IN_USE, DATA_DIR_BUSY or DATA_LAYOUT.
 */
export async function startDevServer(options: DevOptions): Promise<DevServer> {
  const dir = resolve(options.cwd, options.dir);
  const checked = await checkApp(dir, { cwd: options.cwd });
  if (!checked.ok || !checked.config) {
    throw new DevError(
      "INVALID_APP",
      `${relative(options.cwd, dir) || "."} has ${checked.errors} error(s); nothing was started`,
      checked.problems,
    );
  }
  const config = checked.config;
  const format = options.logFormat ?? "text";
  const write = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));

  const dataDir = options.ephemeral
    ? undefined
    : resolve(options.dataDir ?? join(dir, DATA_DIR_NAME));
  if (dataDir) {
    const running = readDevState(dataDir);
    if (running && running.pid !== process.pid) {
      throw new DevError(
        "DATA_DIR_BUSY",
        `another cascade dev (pid ${running.pid}, ${running.url}) is using ${dataDir}; stop it or pass --data-dir or --ephemeral`,
      );
    }
    const layout = readDataLayout(dataDir);
    const problem = dataLayoutProblem(layout, relative(options.cwd, dataDir) || dataDir);
    if (problem !== undefined) throw new DevError("DATA_LAYOUT", problem);
    mkdirSync(dataDir, { recursive: true });
    if (layout.kind === "empty") writeDataLayout(dataDir);
  }

  const definitions = checked.workflows.flatMap((w) => (w.definition ? [w.definition] : []));
  const activities = new Map<string, ActivityFunction>(checked.activities);
  const cache = await openLocalCache(config, (message) =>
    write(
      format === "json"
        ? JSON.stringify({ time: new Date().toISOString(), level: "warn", message })
        : `${new Date().toISOString().slice(11, 23)} [warn] ${message}`,
    ),
  );
  const metrics = new LocalMetricsStore(
    dataDir === undefined ? {} : { dir: join(dataDir, METRICS_DIR_NAME) },
  );
  const stack = await startLocalStack({
    app: config.name,
    metrics,
    workflows: checked.workflows.map((w) => ({
      file: w.file,
      source: w.source,
      defaultName: w.defaultName,
    })),
    activities,
    ...(dataDir === undefined ? { ephemeral: true } : { dataDir }),
    concurrency: options.concurrency ?? Math.min(16, Math.max(1, config.autoscaling.engine.max)),
    batchSize: config.messaging.batchSize,
    maxReceiveCount: config.messaging.maxReceiveCount,
    visibilityTimeoutSeconds:
      config.messaging.visibilityTimeoutSeconds ?? LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    functionTimeouts: {
      engineSeconds: config.deployments.engine.timeoutSeconds,
      workersSeconds: config.deployments.workers.timeoutSeconds,
    },
    onFunctionTimeout: (timeout) =>
      write(
        format === "json"
          ? JSON.stringify({
              time: new Date().toISOString(),
              level: "error",
              kind: "function-timeout",
              queue: timeout.queue,
              function: timeout.function,
              timeoutSeconds: timeout.timeoutSeconds,
              executions: timeout.executions,
              messages: timeout.messages,
              message: timeout.message,
            })
          : `${new Date().toISOString().slice(11, 23)} [error] ${timeout.message}`,
      ),
    ...(options.emulatorThread === undefined ? {} : { emulatorThread: options.emulatorThread }),
    ...(cache ? { cache: cache.cache } : {}),
    reconcile: {
      everyMs: RECONCILE_EVERY_MS,
      idleMs: RECONCILE_IDLE_MS,
      tenants: config.tenants.names.length > 0 ? config.tenants.names : ["default"],
    },
    runtime: {
      workerRegions: workerPoolsOf(definitions),
      offloadThresholdBytes: config.offloadThresholdBytes,
      retentionDays: config.retentionDays,
      log: (line) => {
        const out = formatRuntimeLine(line, format);
        if (out !== undefined) write(out);
      },
    },
    wrapStore: (store) =>
      observeHistory(store, (header, events) => {
        for (const event of events) {
          const line = formatTransition(header, event, format);
          if (line !== undefined) write(line);
        }
      }),
    onError: (error) => {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      write(
        format === "json"
          ? JSON.stringify({
              time: new Date().toISOString(),
              level: "warn",
              kind: "runtime",
              message,
            })
          : `${new Date().toISOString().slice(11, 23)} [warn] ${message} (the message will be retried)`,
      );
    },
  });

  let http: { url: string; port: number; consoleUrl?: string; close(): Promise<void> };
  try {
    // Bundled on the first page load, not here: the API's start does not wait for it, and
    // a console that does not build (an edit in progress in lib/console) leaves the API up.
    let warned = false;
    const consoleAssets =
      options.console === false
        ? undefined
        : () =>
            loadConsoleAssets().catch((error: unknown) => {
              if (!warned) {
                warned = true;
                const message = `the console did not build: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
                write(
                  format === "json"
                    ? JSON.stringify({ time: new Date().toISOString(), level: "warn", message })
                    : `${new Date().toISOString().slice(11, 23)} [warn] ${message}`,
                );
              }
              return undefined;
            });
    http = await (options.serve ?? defaultServeApi)({
      stack,
      config,
      port: options.port ?? DEFAULT_DEV_PORT,
      host: options.host ?? "127.0.0.1",
      metrics,
      metricsSink: metrics,
      ...(consoleAssets ? { console: consoleAssets } : {}),
      ...(options.consolePort === undefined ? {} : { consolePort: options.consolePort }),
    });
  } catch (error) {
    await stack.stop();
    metrics.close();
    cache?.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new DevError(
        "PORT_IN_USE",
        `port ${options.port ?? DEFAULT_DEV_PORT} (or the console's, the next one) is in use; pass --port (and --console-port) to choose others`,
      );
    }
    throw error;
  }

  if (dataDir) {
    const state: DevState = {
      pid: process.pid,
      url: http.url,
      app: config.name,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(join(dataDir, DEV_STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }

  let current: readonly AppWorkflow[] = checked.workflows;
  let version = 0;
  const reload = async (): Promise<ReloadResult> => {
    version++;
    const again = await checkApp(dir, { cwd: options.cwd, version });
    if (!again.ok) return { ok: false, changed: [], problems: again.problems };
    const before = new Map(current.map((w) => [w.definition?.name, w.source]));
    const changed: string[] = [];
    for (const workflow of again.workflows) {
      const name = stack.definitions.register(
        workflow.source,
        workflow.file,
        workflow.defaultName,
      ).name;
      if (before.get(name) !== workflow.source) changed.push(name);
    }
    activities.clear();
    for (const [name, fn] of again.activities) activities.set(name, fn);
    current = again.workflows;
    return { ok: true, changed, problems: again.problems };
  };

  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<void> = Promise.resolve();
  const server: DevServer = {
    url: http.url,
    port: http.port,
    ...(http.consoleUrl === undefined ? {} : { consoleUrl: http.consoleUrl }),
    config,
    ...(dataDir === undefined ? {} : { dataDir }),
    stack,
    metrics,
    warnings: checked.problems,
    workflows: () => current.flatMap((w) => (w.definition ? [w.definition.name] : [])).sort(),
    activityNames: () => [...activities.keys()].sort(),
    reload,
    async stop() {
      if (timer) clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      await reloading;
      await http.close();
      await stack.stop();
      metrics.close();
      cache?.close();
      if (dataDir) rmSync(join(dataDir, DEV_STATE_FILE), { force: true });
    },
  };

  if (options.watch !== false) {
    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        reloading = reloading.then(async () => {
          const result = await reload().catch(
            (error: unknown): ReloadResult => ({
              ok: false,
              changed: [],
              problems: [{ message: (error as Error).message }],
            }),
          );
          server.onReload?.(result);
        });
      }, RELOAD_DEBOUNCE_MS);
    };
    for (const path of [config.workflows, config.activities, join(dir, "cascade.yaml")]) {
      if (!existsSync(path)) continue;
      try {
        watchers.push(watch(path, { recursive: true }, schedule));
      } catch {
        // A file system without watching: reloading is off for this path.
      }
    }
  }
  return server;
}

/** Diagnostics of the checked app, flattened (for JSON output). */
export function problemDiagnostics(
  problems: readonly AppProblem[],
): (Diagnostic | { message: string })[] {
  return problems.map((p) => p.diagnostic ?? { message: p.message ?? "" });
}
