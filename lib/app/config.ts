/**
 * `cascade.yaml`: the app's one configuration file. Validated once, all at once,
 * with the same line, column and "did you mean" as a workflow; unknown keys are
 * errors. A folder without the file is an app with every default.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import {
  type ActivityRef,
  checkStructure,
  type Diagnostic,
  isRecord,
  parseYamlDocument,
  reporter,
  sortDiagnostics,
  type TaskFunction,
} from "../core/cdl/index.ts";
import { LAMBDA_MAX_TIMEOUT_SECONDS, TASK_COMMIT_MARGIN_MS } from "../manifest/index.ts";
import { buildConfig, type RawConfig } from "./config-build.ts";
import { checkConfig, type Problem } from "./config-check.ts";
import { APP_CONFIG_SCHEMA } from "./config-schema.ts";
import {
  type AppConfig,
  type ConfigCheckOptions,
  MAX_CONFIG_SOURCE_CHARS,
} from "./config-types.ts";
import { APP_CONFIG_FILE } from "./workflows.ts";

export { defaultAppName, parseMemoryMb } from "./config-build.ts";
export {
  type AppConfig,
  CONFIG_CODES,
  CONFIG_DEFAULTS,
  type ConfigCheckOptions,
  type ConfigCode,
  type Deployment,
  type HttpTrigger,
  type LogLevel,
  MAX_CONFIG_SOURCE_CHARS,
  MAX_RECONCILER_EVERY_MINUTES,
  type Scaling,
} from "./config-types.ts";

/** Raised by `readAppConfig` when `cascade.yaml` has errors; carries every one. */
export class AppConfigError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(
      `${file} has ${errors.length} error(s):\n${errors
        .map((d) => `  ${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`)
        .join("\n")}`,
    );
    this.name = "AppConfigError";
    this.diagnostics = diagnostics;
  }
}

/**
 * Reads `<dir>/cascade.yaml`; a folder without one gets every default.
 * Never throws on bad input: problems are diagnostics (codes `CONFIG_*`).
 */
export async function loadAppConfig(
  dir: string,
  options: ConfigCheckOptions = {},
): Promise<{ config?: AppConfig; diagnostics: readonly Diagnostic[] }> {
  const root = resolve(dir);
  const file = join(root, APP_CONFIG_FILE);
  const text = existsSync(file) ? await readFile(file, "utf8") : "";
  const display = options.display ?? (relative(process.cwd(), file) || file);
  return parseAppConfig(display, text, root, options);
}

/** Like `loadAppConfig`, but throws. @throws AppConfigError listing every error. */
export async function readAppConfig(
  dir: string,
  options: ConfigCheckOptions = {},
): Promise<AppConfig> {
  const { config, diagnostics } = await loadAppConfig(dir, options);
  if (!config) throw new AppConfigError(options.display ?? APP_CONFIG_FILE, diagnostics);
  return config;
}

/** Validates `cascade.yaml`'s text for the app in `dir` (absolute). Pure but for checking that paths exist. */
export function parseAppConfig(
  display: string,
  text: string,
  dir: string,
  options: ConfigCheckOptions = {},
): { config?: AppConfig; diagnostics: readonly Diagnostic[] } {
  const tooLong = text.length > MAX_CONFIG_SOURCE_CHARS;
  const doc = parseYamlDocument(display, tooLong ? "" : text);
  const diagnostics: Diagnostic[] = [...doc.diagnostics];
  const report = reporter(doc, diagnostics);
  const done = (config?: AppConfig) => {
    const all = sortDiagnostics(diagnostics.map(renameCode));
    return config && !all.some((d) => d.severity === "error")
      ? { config, diagnostics: all }
      : { diagnostics: all };
  };
  if (tooLong) {
    report(
      "CDL_INVALID_VALUE",
      [],
      `cascade.yaml is ${text.length} characters; the limit is ${MAX_CONFIG_SOURCE_CHARS}`,
    );
    return done();
  }
  if (diagnostics.some((d) => d.severity === "error")) return done();
  // An empty file is an app with every default.
  const raw: unknown = doc.value ?? {};
  if (!isRecord(raw)) {
    report("CDL_TYPE", [], "cascade.yaml is a mapping, e.g. `name: my-app`");
    return done();
  }
  if (doc.value !== null && doc.value !== undefined) {
    checkStructure(doc, APP_CONFIG_SCHEMA, report, { rootLabel: "cascade.yaml" });
  }
  if (diagnostics.some((d) => d.severity === "error")) return done();
  const config = buildConfig(raw as RawConfig, dir);
  const problems: Problem[] = [];
  checkConfig(config, raw as RawConfig, options, problems);
  for (const p of problems)
    report(p.code, p.path, p.message, p.warning ? { severity: "warning" } : {});
  return done(config);
}

/** Structural problems come from CDL's validator with `CDL_*` codes; here they are `CONFIG_*`. */
function renameCode(d: Diagnostic): Diagnostic {
  return d.code.startsWith("CDL_")
    ? { ...d, code: d.code.replace(/^CDL_/, "CONFIG_") as Diagnostic["code"] }
    : d;
}

/**
 * The function each Task of the app runs in, for CDL's timeout check: a Task whose
 * resource names a worker pool (`@payments`, the seed's `@us-east`) runs on that pool's
 * worker function (`deployments.workers`); every other Task runs inline in the engine
 * (`deployments.engine`). Each leaves `TASK_COMMIT_MARGIN_MS` to commit and send.
 */
export function taskFunctions(config: AppConfig): (resource: ActivityRef) => TaskFunction {
  return (resource) => {
    const role = resource.pool === undefined ? "engine" : "workers";
    return {
      label:
        resource.pool === undefined
          ? "the engine function"
          : `the worker function of pool ${resource.pool}`,
      timeoutMs: config.deployments[role].timeoutSeconds * 1000,
      marginMs: TASK_COMMIT_MARGIN_MS,
      setting: `deployments.${role}.timeout in cascade.yaml`,
      maxTimeoutMs: LAMBDA_MAX_TIMEOUT_SECONDS * 1000,
    };
  };
}
