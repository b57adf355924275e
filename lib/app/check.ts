/**
 * Reading and checking a whole app before the local stack runs it: `cascade.yaml`,
 * every workflow (with the app's activity names) and the activity modules. Every
 * problem is reported at once, with the same diagnostics as `cascade validate`.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ActivityFunction } from "../core/activity.ts";
import {
  type Definition,
  type Diagnostic,
  type Flow,
  formatDiagnostic,
  type SourceText,
  validateWorkflow,
} from "../core/cdl/index.ts";
import { loadActivities } from "./activities.ts";
import { type AppConfig, loadAppConfig, taskFunctions } from "./config.ts";
import { APP_CONFIG_FILE, discoverWorkflowFiles } from "./discover.ts";
import { workflowStem } from "./workflows.ts";

/** One workflow file of the app, read and validated. */
export interface AppWorkflow {
  readonly file: string;
  readonly source: string;
  /** The file's stem: the workflow's name when the document has none. */
  readonly defaultName: string;
  readonly definition?: Definition;
}

/** A problem found while checking the app, with the source it points into (for the snippet). */
export interface AppProblem {
  readonly diagnostic?: Diagnostic;
  readonly source?: SourceText;
  /** A problem that is not a diagnostic (an activity module that fails to load). */
  readonly message?: string;
}

/** What `checkApp` found: `ok` only when there is no error anywhere. */
export interface CheckedApp {
  readonly ok: boolean;
  readonly config?: AppConfig;
  readonly workflows: readonly AppWorkflow[];
  readonly activities: ReadonlyMap<string, ActivityFunction>;
  readonly problems: readonly AppProblem[];
  readonly errors: number;
  readonly warnings: number;
}

/** The app's activities (see `loadActivities`); `version` > 0 imports fresh copies. */
export const importActivities = loadActivities;

/**
 * Reads `<dir>/cascade.yaml`, the workflows and the activities it names, and
 * validates them together (a Task naming an unknown activity, a Task whose timeout
 * does not fit in its function's timeout, a trigger naming an unknown workflow, two
 * files defining one workflow are errors). Never throws on bad input.
 */
export async function checkApp(
  dir: string,
  options: { readonly cwd: string; readonly version?: number },
): Promise<CheckedApp> {
  const problems: AppProblem[] = [];
  const display = relative(options.cwd, join(dir, APP_CONFIG_FILE)) || APP_CONFIG_FILE;
  const first = await loadAppConfig(dir, { display });
  // With a broken cascade.yaml, still check the conventional folders: every problem at once.
  const config = first.config ?? {
    workflows: join(dir, "workflows"),
    activities: join(dir, "activities"),
  };

  let activities = new Map<string, ActivityFunction>();
  let activitiesLoaded = false;
  if (existsSync(config.activities)) {
    try {
      activities = await importActivities(config.activities, options.version ?? 0);
      activitiesLoaded = true;
    } catch (error) {
      problems.push({ message: (error as Error).message });
    }
  }

  const files = discoverWorkflowFiles(config.workflows);
  const workflows: AppWorkflow[] = [];
  const byName = new Map<string, string>();
  for (const file of files) {
    const source = await readFile(file, "utf8");
    const display = relative(options.cwd, file) || file;
    const result = validateWorkflow(display, source, {
      defaultName: workflowStem(file),
      ...(activitiesLoaded ? { activities: new Set(activities.keys()) } : {}),
      // With a broken cascade.yaml the functions' timeouts are unknown; its errors say why.
      ...(first.config ? { taskFunction: taskFunctions(first.config) } : {}),
    });
    for (const diagnostic of result.diagnostics)
      problems.push({ diagnostic, source: result.source });
    if (result.definition) {
      const other = byName.get(result.definition.name);
      if (other !== undefined) {
        problems.push({
          message: `${display}: workflow '${result.definition.name}' is also defined in ${other}`,
        });
      }
      byName.set(result.definition.name, display);
    }
    workflows.push({
      file,
      source,
      defaultName: workflowStem(file),
      ...(result.definition ? { definition: result.definition } : {}),
    });
  }
  if (files.length === 0) {
    problems.push({
      message: `no workflow files (.yaml) in ${relative(options.cwd, config.workflows) || config.workflows}`,
    });
  }

  // Again with the workflow names, so triggers naming an unknown workflow are errors.
  const second = await loadAppConfig(dir, { display, workflows: new Set(byName.keys()) });
  for (const diagnostic of second.diagnostics) problems.push({ diagnostic });
  return summarise({
    ...(second.config ? { config: second.config } : {}),
    workflows,
    activities,
    problems,
  });
}

function summarise(found: {
  config?: AppConfig;
  workflows: AppWorkflow[];
  activities: Map<string, ActivityFunction>;
  problems: AppProblem[];
}): CheckedApp {
  const errors = found.problems.filter(
    (p) => p.diagnostic === undefined || p.diagnostic.severity === "error",
  ).length;
  const warnings = found.problems.length - errors;
  return { ...found, ok: errors === 0 && found.config !== undefined, errors, warnings };
}

/** The problems as `cascade validate` prints them: `file:line:column severity CODE message` and a snippet. */
export function formatProblems(problems: readonly AppProblem[]): string {
  return problems
    .map((p) =>
      p.diagnostic ? formatDiagnostic(p.diagnostic, p.source) : `error ${p.message ?? ""}`,
    )
    .join("\n");
}

/** The worker pools named by `@pool` activity resources: each gets its own queue and worker function. */
/**
 * The S3 buckets an app's Maps read items from (`item_reader`) and write results to
 * (`result_writer`), where a literal names them; `templated` when some bucket is only
 * known at run time (its access then comes from cascade.yaml's `activities.permissions`).
 */
export function objectBucketsOf(definitions: readonly Definition[]): {
  read: string[];
  write: string[];
  templated: boolean;
} {
  const read = new Set<string>();
  const write = new Set<string>();
  let templated = false;
  const note = (into: Set<string>, bucket: { kind: string; source: string }) => {
    if (bucket.kind === "literal") into.add(bucket.source);
    else templated = true;
  };
  const walk = (flow: Flow): void => {
    for (const state of flow.states.values()) {
      if (state.type === "Parallel") for (const branch of state.branches) walk(branch.flow);
      if (state.type !== "Map") continue;
      if (state.itemReader) note(read, state.itemReader.bucket);
      if (state.resultWriter) note(write, state.resultWriter.bucket);
      walk(state.iterator);
    }
  };
  for (const definition of definitions) walk(definition.flow);
  return { read: [...read].sort(), write: [...write].sort(), templated };
}

export function workerPoolsOf(definitions: readonly Definition[]): Set<string> {
  const pools = new Set<string>();
  const walk = (flow: Flow): void => {
    for (const state of flow.states.values()) {
      if (state.type === "Task" && state.resource.pool !== undefined)
        pools.add(state.resource.pool);
      if (state.type === "Parallel") for (const branch of state.branches) walk(branch.flow);
      if (state.type === "Map") walk(state.iterator);
    }
  };
  for (const definition of definitions) walk(definition.flow);
  return pools;
}
