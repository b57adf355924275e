/** `cascade validate [PATHS...]`: check workflows before anything runs. */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { loadActivities } from "../../app/activities.ts";
import { type AppConfig, loadAppConfig, taskFunctions } from "../../app/config.ts";
import {
  APP_CONFIG_FILE,
  conventionalActivitiesDir,
  findWorkflowFiles,
  validateWorkflowFile,
} from "../../app/workflows.ts";
import {
  type Definition,
  type Diagnostic,
  type Flow,
  formatDiagnostic,
  SourceText,
  type ValidationResult,
} from "../../core/cdl/index.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

export interface ValidateCommandOptions {
  readonly activities?: string;
  readonly format: "text" | "json";
}

interface FileReport {
  readonly file: string;
  /** `cascade.yaml` files are reported beside the workflows. */
  readonly kind?: "config";
  readonly app?: string;
  readonly workflow?: string;
  readonly valid: boolean;
  readonly states?: Record<string, number>;
  readonly activitiesFrom?: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** Counts states by type, through branches and iterators. */
export function countStates(flow: Flow, into: Record<string, number> = {}): Record<string, number> {
  for (const state of flow.states.values()) {
    into[state.type] = (into[state.type] ?? 0) + 1;
    if (state.type === "Parallel")
      for (const branch of state.branches) countStates(branch.flow, into);
    if (state.type === "Map") countStates(state.iterator, into);
  }
  return into;
}

/** Runs the command; returns the exit code. */
export async function runValidate(
  paths: readonly string[],
  options: ValidateCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const files = await findWorkflowFiles(paths.length > 0 ? paths : ["."], io.cwd);
  const activityCache = new Map<string, ReadonlySet<string>>();
  const activitiesFor = async (
    file: string,
  ): Promise<{ names?: ReadonlySet<string>; from?: string }> => {
    const from = options.activities ?? conventionalActivitiesDir(file);
    if (from === undefined) return {};
    let names = activityCache.get(from);
    if (!names) {
      names = new Set((await loadActivities(from)).keys());
      activityCache.set(from, names);
    }
    return { names, from: relative(io.cwd, from) || from };
  };

  // Each app folder met (a folder given, or the app of a `workflows/` file) with a cascade.yaml.
  const appDirs = new Set<string>();
  for (const path of paths.length > 0 ? paths : ["."]) {
    const full = resolve(io.cwd, path);
    if (statSync(full).isDirectory() && existsSync(join(full, APP_CONFIG_FILE))) appDirs.add(full);
  }
  for (const file of files) {
    const dir = dirname(file);
    if (basename(dir) === "workflows" && existsSync(join(dirname(dir), APP_CONFIG_FILE)))
      appDirs.add(dirname(dir));
  }
  // A workflow of an app is checked against the app's functions: a Task's timeout must fit.
  const apps: { workflows: string; config: AppConfig }[] = [];
  for (const appDir of appDirs) {
    const { config } = await loadAppConfig(appDir);
    if (config) apps.push({ workflows: config.workflows, config });
  }
  const appOf = (file: string): AppConfig | undefined =>
    apps
      .filter((app) => file.startsWith(`${app.workflows}${sep}`))
      .sort((a, b) => b.workflows.length - a.workflows.length)[0]?.config;

  const reports: FileReport[] = [];
  const results: ValidationResult[] = [];
  for (const file of files) {
    const { names, from } = await activitiesFor(file);
    const app = appOf(file);
    const result = await validateWorkflowFile(file, io.cwd, names, app && taskFunctions(app));
    results.push(result);
    reports.push(toReport(result, from));
  }

  for (const appDir of [...appDirs].sort()) {
    const names = await workflowNamesOf(appDir, io.cwd);
    const display = relative(io.cwd, join(appDir, APP_CONFIG_FILE));
    const { config, diagnostics } = await loadAppConfig(appDir, { workflows: names, display });
    const source = new SourceText(display, await readFile(join(appDir, APP_CONFIG_FILE), "utf8"));
    results.push({ source, diagnostics });
    reports.push({
      file: display,
      kind: "config",
      valid: config !== undefined,
      ...(config ? { app: config.name } : {}),
      diagnostics,
    });
  }

  const errors = reports.reduce(
    (n, r) => n + r.diagnostics.filter((d) => d.severity === "error").length,
    0,
  );
  const warnings = reports.reduce(
    (n, r) => n + r.diagnostics.filter((d) => d.severity === "warning").length,
    0,
  );

  if (options.format === "json") {
    io.stdout(
      `${JSON.stringify({ ok: errors === 0, errors, warnings, files: reports }, null, 2)}\n`,
    );
  } else {
    printText(reports, results, io);
    const workflows = reports.filter((r) => r.kind === undefined);
    const invalid = workflows.filter((r) => !r.valid).length;
    const configs = reports.filter((r) => r.kind === "config");
    const badConfigs = configs.filter((r) => !r.valid).length;
    io.stdout(
      `\n${workflows.length} workflow file(s) checked: ${workflows.length - invalid} valid, ${invalid} invalid` +
        (configs.length > 0
          ? `; ${configs.length} ${APP_CONFIG_FILE} checked: ${configs.length - badConfigs} valid, ${badConfigs} invalid`
          : "") +
        ` (${errors} error(s), ${warnings} warning(s))\n`,
    );
  }
  if (files.length === 0) {
    io.stderr(`no workflow files (.yaml, .yml) found in ${paths.join(", ") || "."}\n`);
    // Nothing at all to check is a usage error; a cascade.yaml checked alone is a result.
    if (reports.length === 0) return EXIT.USAGE;
  }
  return errors > 0 ? EXIT.INVALID : EXIT.OK;
}

function toReport(result: ValidationResult, activitiesFrom: string | undefined): FileReport {
  const definition: Definition | undefined = result.definition;
  return {
    file: result.source.name,
    valid: definition !== undefined,
    ...(definition ? { workflow: definition.name, states: countStates(definition.flow) } : {}),
    ...(activitiesFrom === undefined ? {} : { activitiesFrom }),
    diagnostics: result.diagnostics,
  };
}

function printText(
  reports: readonly FileReport[],
  results: readonly ValidationResult[],
  io: CliIo,
): void {
  reports.forEach((report, index) => {
    const source = results[index]?.source;
    if (report.kind === "config") {
      io.stdout(`${report.valid ? "ok   " : "FAIL "} ${report.file}  app ${report.app ?? ""}\n`);
    } else if (report.valid) {
      const states = Object.entries(report.states ?? {})
        .map(([type, n]) => `${type} ${n}`)
        .join(", ");
      const total = Object.values(report.states ?? {}).reduce((a, b) => a + b, 0);
      io.stdout(`ok    ${report.file}  ${report.workflow ?? ""}: ${total} states (${states})\n`);
    } else {
      io.stdout(`FAIL  ${report.file}\n`);
    }
    for (const diagnostic of report.diagnostics) {
      io.stdout(`${indent(formatDiagnostic(diagnostic, source))}\n`);
    }
  });
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}

/** The names of every workflow of the app in `appDir` (where its cascade.yaml says they live). */
async function workflowNamesOf(appDir: string, cwd: string): Promise<ReadonlySet<string>> {
  const { config } = await loadAppConfig(appDir);
  const folder = config?.workflows ?? join(appDir, "workflows");
  if (!existsSync(folder)) return new Set();
  const names = new Set<string>();
  for (const file of await findWorkflowFiles([folder], cwd)) {
    const result = await validateWorkflowFile(file, cwd);
    if (result.definition) names.add(result.definition.name);
  }
  return names;
}
