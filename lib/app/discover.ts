/**
 * The one discovery of an app's files. `cascade validate`, `cascade dev`, `cascade run`,
 * the CDK construct (what it validates and what it stages into the functions' asset) and
 * the Lambda cold start all list an app's files with these functions, so a workflow in a
 * nested folder (`workflows/orders/refund.yaml`) or with an upper-case extension
 * (`Refund.YAML`) is seen by all of them or by none.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** The app's configuration file: not a workflow. */
export const APP_CONFIG_FILE = "cascade.yaml";
/** Folders never searched for workflows. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  "node_modules",
  ".git",
  ".cascade",
  "cdk.out",
]);
/** A workflow file: `.yaml` or `.yml`, any case. */
export const WORKFLOW_FILE = /\.ya?ml$/i;
/** An activity module: TypeScript or JavaScript, ESM or not. */
export const ACTIVITY_MODULE = /\.(ts|mts|js|mjs)$/;
/** Never an activity module: tests and declarations. */
export const NOT_AN_ACTIVITY_MODULE = /\.(test|spec|d)\.(ts|mts|js|mjs)$/;

/**
 * Every workflow file under `dir`, recursively (skipping {@link SKIPPED_DIRS} and
 * `cascade.yaml`), as absolute paths, sorted; none when `dir` does not exist.
 */
export function discoverWorkflowFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(full);
      } else if (entry.isFile() && WORKFLOW_FILE.test(entry.name) && entry.name !== APP_CONFIG_FILE)
        found.push(full);
    }
  };
  const root = resolve(dir);
  if (kind(root) === "dir") walk(root);
  return found.sort();
}

/**
 * The activity modules behind `path`: the file itself, or the modules directly inside a
 * folder (not its subfolders: those hold the modules' own imports, such as a shared
 * `db.ts` or a bundle's chunks), absolute and sorted; none when `path` does not exist.
 */
export function discoverActivityModules(path: string): string[] {
  const full = resolve(path);
  const what = kind(full);
  if (what === "file") return [full];
  if (what !== "dir") return [];
  return readdirSync(full, { withFileTypes: true })
    .filter(
      (e) => e.isFile() && ACTIVITY_MODULE.test(e.name) && !NOT_AN_ACTIVITY_MODULE.test(e.name),
    )
    .map((e) => join(full, e.name))
    .sort();
}

/** An app's files: what {@link discoverWorkflowFiles} and {@link discoverActivityModules} find. */
export interface AppFiles {
  readonly workflowFiles: readonly string[];
  readonly activityModules: readonly string[];
}

/** The files of the app whose workflows and activities live at these paths. */
export function discoverApp(paths: {
  readonly workflows: string;
  readonly activities: string;
}): AppFiles {
  return {
    workflowFiles: discoverWorkflowFiles(paths.workflows),
    activityModules: discoverActivityModules(paths.activities),
  };
}

/** A workflow file's path inside the workflows folder, with `/` separators (kept when staged). */
export function workflowRelativePath(workflowsDir: string, file: string): string {
  return relative(workflowsDir, file).split("\\").join("/");
}

function kind(path: string): "file" | "dir" | undefined {
  try {
    const info = statSync(path);
    return info.isFile() ? "file" : info.isDirectory() ? "dir" : undefined;
  } catch {
    return undefined;
  }
}
