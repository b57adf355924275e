/** Finding and reading workflow files on disk, and validating them. */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import {
  type ValidateOptions,
  type ValidationResult,
  validateWorkflow,
} from "../core/cdl/index.ts";

import { APP_CONFIG_FILE, discoverWorkflowFiles } from "./discover.ts";

export { APP_CONFIG_FILE };

/** Raised when a path given on the command line does not exist. */
export class WorkflowPathError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`no such file or folder: ${path}`);
    this.name = "WorkflowPathError";
    this.path = path;
  }
}

/**
 * The workflow files behind `paths`: files as given, folders searched recursively
 * for `.yaml`/`.yml` files other than `cascade.yaml`. Sorted, without duplicates.
 * @throws WorkflowPathError when a path does not exist.
 */
export async function findWorkflowFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const found = new Set<string>();
  for (const path of paths) {
    const full = resolve(cwd, path);
    const info = await stat(full).catch(() => undefined);
    if (!info) throw new WorkflowPathError(path);
    if (info.isDirectory()) for (const file of discoverWorkflowFiles(full)) found.add(file);
    else found.add(full);
  }
  return [...found].sort();
}

/**
 * The activities folder of the app a workflow file belongs to, by convention
 * `<app>/activities` beside `<app>/workflows/<file>.yaml`; undefined when there is none.
 */
export function conventionalActivitiesDir(workflowFile: string): string | undefined {
  const dir = dirname(workflowFile);
  if (basename(dir) !== "workflows") return undefined;
  const candidate = join(dirname(dir), "activities");
  return existsSync(candidate) ? candidate : undefined;
}

/** A workflow file's stem, which names the workflow when its document has no `name`. */
export function workflowStem(file: string): string {
  return basename(file, extname(file));
}

/**
 * Reads and validates one workflow file, named relative to `cwd` in diagnostics.
 * `activities` and `taskFunction` are the app's, when the file belongs to one.
 */
export async function validateWorkflowFile(
  file: string,
  cwd: string,
  activities?: ReadonlySet<string>,
  taskFunction?: ValidateOptions["taskFunction"],
): Promise<ValidationResult> {
  const text = await readFile(file, "utf8");
  const display = relative(cwd, file) || file;
  return validateWorkflow(display, text, {
    defaultName: workflowStem(file),
    ...(activities ? { activities } : {}),
    ...(taskFunction ? { taskFunction } : {}),
  });
}
