/** Reading an app folder: its `cascade.yaml`, workflow files and activities module(s). */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ActivityFunction } from "../runtime/activities.ts";
import { loadActivities } from "./activities.ts";
import { type AppConfig, readAppConfig } from "./config.ts";
import { workflowStem } from "./workflows.ts";

export interface LoadedApp {
  readonly config: AppConfig;
  readonly workflows: readonly {
    readonly file: string;
    readonly source: string;
    readonly defaultName: string;
  }[];
  readonly activities: ReadonlyMap<string, ActivityFunction>;
}

/**
 * The app in `dir`: its `cascade.yaml` (defaults when absent), the workflow files
 * in its workflows folder and the functions exported by its activities module(s).
 * @throws AppConfigError when cascade.yaml has errors; ActivityLoadError when a module fails to load.
 */
export async function loadApp(dir: string): Promise<LoadedApp> {
  const config = await readAppConfig(dir);
  const workflowDir = config.workflows;
  const files = existsSync(workflowDir)
    ? (await readdir(workflowDir)).filter((f) => /\.ya?ml$/.test(f)).sort()
    : [];
  const workflows = await Promise.all(
    files.map(async (f) => ({
      file: join(workflowDir, f),
      source: await readFile(join(workflowDir, f), "utf8"),
      defaultName: workflowStem(f),
    })),
  );
  const activities = existsSync(config.activities)
    ? await loadActivities(config.activities)
    : new Map<string, ActivityFunction>();
  return { config, workflows, activities };
}
