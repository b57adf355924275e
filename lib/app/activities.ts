/**
 * Loading an app's activities: the activities exported by the modules in its
 * `activities/` folder (or one module), registered under their export names. Which
 * exports are activities is `activitiesOf`'s rule (lib/core/activity.ts): the functions
 * made with `defineActivity`, or, in a module with none, every exported function.
 */
import { pathToFileURL } from "node:url";
import { type ActivityFunction, activitiesOf } from "../core/activity.ts";
import { discoverActivityModules } from "./discover.ts";

export type { ActivityFunction };

/** Raised when activities cannot be loaded; `file` says which module. */
export class ActivityLoadError extends Error {
  readonly file: string;
  constructor(message: string, file: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ActivityLoadError";
    this.file = file;
  }
}

/** The module files behind `path`: the file itself, or the modules directly inside a folder, sorted. */
export async function activityModuleFiles(path: string): Promise<string[]> {
  return discoverActivityModules(path);
}

/**
 * Imports the activity modules at `path` and returns their functions by name.
 * Two modules exporting the same name is an error, since a workflow could not
 * say which one it means.
 * `version` > 0 imports fresh copies (a query string defeats the ESM cache), for
 * `cascade dev`'s reloads.
 * @throws ActivityLoadError when a module fails to load or names collide.
 */
export async function loadActivities(
  path: string,
  version = 0,
): Promise<Map<string, ActivityFunction>> {
  const activities = new Map<string, ActivityFunction>();
  const origin = new Map<string, string>();
  for (const file of await activityModuleFiles(path)) {
    const url = pathToFileURL(file).href + (version > 0 ? `?v=${version}` : "");
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new ActivityLoadError(
        `cannot load activities from ${file}: ${(error as Error).message}`,
        file,
        {
          cause: error,
        },
      );
    }
    for (const [name, value] of activitiesOf(mod)) {
      const first = origin.get(name);
      if (first !== undefined) {
        throw new ActivityLoadError(
          `activity '${name}' is exported by both ${first} and ${file}`,
          file,
        );
      }
      activities.set(name, value);
      origin.set(name, file);
    }
  }
  return activities;
}
