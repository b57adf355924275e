/** Reading an app folder: its workflow files and its activities module(s). */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ActivityFunction } from "../runtime/activities.ts";
import { loadActivities } from "./activities.ts";
import { workflowStem } from "./workflows.ts";

export interface LoadedApp {
  readonly workflows: readonly {
    readonly file: string;
    readonly source: string;
    readonly defaultName: string;
  }[];
  readonly activities: ReadonlyMap<string, ActivityFunction>;
}

/** `<dir>/workflows/*.yaml` and the functions exported by `<dir>/activities/*`. */
export async function loadApp(dir: string): Promise<LoadedApp> {
  const workflowDir = join(dir, "workflows");
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
  const activityDir = join(dir, "activities");
  const activities = existsSync(activityDir)
    ? await loadActivities(activityDir)
    : new Map<string, ActivityFunction>();
  return { workflows, activities };
}
