/**
 * `cascade run FILE.yaml --input JSON`: one execution, start to end, on an
 * embedded in-memory stack (or on `--endpoint` when given), then its output.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ActivityLoadError } from "../../app/activities.ts";
import { importActivities, workerPoolsOf } from "../../app/check.ts";
import { prepareLocalEnvironment } from "../../app/env-file.ts";
import { APP_CONFIG_FILE, conventionalActivitiesDir, workflowStem } from "../../app/workflows.ts";
import type { ActivityFunction } from "../../core/activity.ts";
import { formatDiagnostic, validateWorkflow } from "../../core/cdl/index.ts";
import type { WorkflowError } from "../../core/engine/types.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import { startLocalStack } from "../../local/stack.ts";
import { formatTransition, observeHistory } from "../../local/transition-log.ts";
import { StartError } from "../../runtime/runtime.ts";
import { ApiClient, defaultApp, seg } from "../api-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { readJsonArgument } from "../json-input.ts";

export interface RunCommandOptions {
  readonly input: string;
  readonly activities?: string;
  readonly format: "text" | "json";
  /** Give up (and cancel) after this many seconds. */
  readonly timeout: number;
  readonly id?: string;
  readonly endpoint?: string;
  readonly app?: string;
  readonly tenant?: string;
  /** Print each transition to standard error. */
  readonly verbose: boolean;
  /** External events to send once started, as `name=JSON` (kept until a state waits for them). */
  readonly event?: readonly string[];
}

/** What `cascade run` reports, also its `--format json` object. */
export interface RunResult {
  readonly id: string;
  readonly status: "succeeded" | "failed" | "cancelled" | "running";
  readonly output: JsonValue;
  readonly error: WorkflowError | null;
}

/** Runs the command; returns the exit code (0 succeeded, 2 failed, 1 invalid workflow or input). */
export async function runRun(
  file: string,
  options: RunCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) {
    io.stderr(`cascade run: no such file: ${file}\n`);
    return EXIT.USAGE;
  }
  const input = await readJsonArgument(options.input, "--input", io);
  const events: { name: string; payload: JsonValue }[] = [];
  for (const spec of options.event ?? []) {
    const eq = spec.indexOf("=");
    const name = eq < 0 ? spec : spec.slice(0, eq);
    if (name === "") {
      io.stderr(`cascade run: --event ${spec}: expected NAME or NAME=JSON\n`);
      return EXIT.USAGE;
    }
    events.push({
      name,
      payload: eq < 0 ? null : await readJsonArgument(spec.slice(eq + 1), `--event ${name}`, io),
    });
  }
  const activitiesPath =
    options.activities === undefined
      ? conventionalActivitiesDir(path)
      : resolve(io.cwd, options.activities);
  if (activitiesPath !== undefined && !existsSync(activitiesPath)) {
    io.stderr(`cascade run: no such file or folder: ${options.activities ?? activitiesPath}\n`);
    return EXIT.USAGE;
  }
  // A file of an app (`<app>/workflows/x.yaml` beside `<app>/cascade.yaml`) gets the app's
  // .env and must have its secrets, as under cascade dev.
  const appDir = dirname(dirname(path));
  if (basename(dirname(path)) === "workflows" && existsSync(join(appDir, APP_CONFIG_FILE))) {
    const { missing } = await prepareLocalEnvironment(
      appDir,
      relative(io.cwd, join(appDir, APP_CONFIG_FILE)),
    );
    if (missing.length > 0) {
      for (const d of missing) io.stderr(`${formatDiagnostic(d)}\n`);
      io.stderr(`cascade run: ${missing.length} secret(s) not set; nothing was run\n`);
      return EXIT.INVALID;
    }
  }
  let activities = new Map<string, ActivityFunction>();
  if (activitiesPath !== undefined) {
    try {
      activities = await importActivities(activitiesPath);
    } catch (error) {
      if (!(error instanceof ActivityLoadError)) throw error;
      io.stderr(`cascade run: ${error.message}\n`);
      return EXIT.INVALID;
    }
  }
  const source = await readFile(path, "utf8");
  const validation = validateWorkflow(relative(io.cwd, path) || path, source, {
    defaultName: workflowStem(path),
    ...(activitiesPath === undefined ? {} : { activities: new Set(activities.keys()) }),
  });
  const errors = validation.diagnostics.filter((d) => d.severity === "error");
  if (!validation.definition || errors.length > 0) {
    for (const d of validation.diagnostics)
      io.stderr(`${formatDiagnostic(d, validation.source)}\n`);
    io.stderr(`cascade run: ${errors.length} error(s); nothing was run\n`);
    return EXIT.INVALID;
  }
  const definition = validation.definition;

  let result: RunResult;
  if (options.endpoint !== undefined) {
    result = await runRemote(definition.name, input, events, options);
  } else {
    const stack = await startLocalStack({
      app: options.app ?? "run",
      workflows: [{ file: path, source, defaultName: workflowStem(path) }],
      activities,
      ephemeral: true,
      emulatorThread: false,
      visibilityTimeoutSeconds: 30,
      runtime: {
        workerRegions: workerPoolsOf([definition]),
        log: (line) => {
          if (options.verbose) io.stderr(`${line}\n`);
        },
      },
      wrapStore: (store) =>
        options.verbose
          ? observeHistory(store, (header, events) => {
              for (const event of events) {
                const line = formatTransition(header, event, "text");
                if (line !== undefined) io.stderr(`${line}\n`);
              }
            })
          : store,
    });
    try {
      const tenant = options.tenant ?? "default";
      let executionId: string;
      try {
        ({ executionId } = await stack.runtime.startExecution(definition.name, input, {
          tenant,
          ...(options.id === undefined ? {} : { id: options.id }),
        }));
      } catch (error) {
        if (!(error instanceof StartError)) throw error;
        io.stderr(`cascade run: ${error.code}: ${error.message}\n`);
        for (const p of error.problems) io.stderr(`  ${JSON.stringify(p)}\n`);
        return EXIT.INVALID;
      }
      for (const event of events)
        await stack.runtime.signal(tenant, executionId, event.name, event.payload);
      let status: RunResult["status"] = "running";
      let output: JsonValue = null;
      let error: WorkflowError | null = null;
      try {
        const record = await stack.waitFor(executionId, options.timeout * 1000, tenant);
        status = record.thread.status as RunResult["status"];
        if (status === "succeeded") output = await stack.runtime.codec.load(record.thread.data);
        error = record.thread.error ?? null;
      } catch {
        await stack.runtime.cancel(
          tenant,
          executionId,
          `cascade run: no end after ${options.timeout}s`,
        );
        error = {
          name: "Cascade.Timeout",
          message: `the execution did not end within ${options.timeout}s (--timeout); it was cancelled`,
        };
      }
      result = { id: executionId, status, output, error };
    } finally {
      await stack.stop();
    }
  }
  return report(result, options, io);
}

function report(result: RunResult, options: RunCommandOptions, io: CliIo): ExitCode {
  if (options.format === "json") {
    io.stdout(`${JSON.stringify(result)}\n`);
  } else if (result.status === "succeeded") {
    io.stdout(`${JSON.stringify(result.output, null, 2)}\n`);
  } else {
    io.stderr(
      `execution ${result.id} ${result.status === "running" ? "timed out" : result.status}: ${result.error?.name ?? ""}: ${result.error?.message ?? ""}\n`,
    );
  }
  return result.status === "succeeded" ? EXIT.OK : EXIT.EXECUTION_FAILED;
}

/** The same run against a deployed or running API, by the workflow's name. */
async function runRemote(
  workflow: string,
  input: JsonValue,
  events: readonly { name: string; payload: JsonValue }[],
  options: RunCommandOptions,
): Promise<RunResult> {
  const client = new ApiClient({
    endpoint: options.endpoint ?? "",
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
  });
  const app = options.app ?? (await defaultApp(client));
  const started = await client.request<{ id?: string; executionId?: string }>(
    "POST",
    `/v1/apps/${seg(app)}/workflows/${seg(workflow)}/executions`,
    { input, ...(options.id === undefined ? {} : { id: options.id }) },
  );
  const id = started.body.id ?? started.body.executionId ?? "";
  for (const event of events) {
    await client.request("POST", `/v1/apps/${seg(app)}/executions/${seg(id)}/events`, {
      event: event.name,
      payload: event.payload,
    });
  }
  const deadline = Date.now() + options.timeout * 1000;
  for (;;) {
    const { body } = await client.request<{
      status: RunResult["status"];
      output?: JsonValue;
      error?: WorkflowError;
    }>("GET", `/v1/apps/${seg(app)}/executions/${seg(id)}`);
    if (body.status !== "running") {
      return { id, status: body.status, output: body.output ?? null, error: body.error ?? null };
    }
    if (Date.now() > deadline) {
      return {
        id,
        status: "running",
        output: null,
        error: {
          name: "Cascade.Timeout",
          message: `no end within ${options.timeout}s (--timeout)`,
        },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
