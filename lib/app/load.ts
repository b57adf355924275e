/** Reading an app folder: its `cascade.yaml`, workflow files and activities module(s). */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ActivityFunction } from "../core/activity.ts";
import { loadActivities } from "./activities.ts";
import { type AppConfig, readAppConfig } from "./config.ts";
import { discoverWorkflowFiles } from "./discover.ts";
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
 * in its workflows folder (nested folders too, lib/app/discover.ts) and the functions exported by its activities module(s).
 * @throws AppConfigError when cascade.yaml has errors; ActivityLoadError when a module fails to load.
 */
export async function loadApp(dir: string): Promise<LoadedApp> {
  const config = await readAppConfig(dir);
  const workflows = await Promise.all(
    discoverWorkflowFiles(config.workflows).map(async (file) => ({
      file,
      source: await readFile(file, "utf8"),
      defaultName: workflowStem(file),
    })),
  );
  const activities = existsSync(config.activities)
    ? await loadActivities(config.activities)
    : new Map<string, ActivityFunction>();
  return { config, workflows, activities };
}
