/**
 * What the CDK construct needs to know about an app folder, read and checked
 * before any construct is built (constructs are synchronous; reading is not):
 * `cascade.yaml`, the workflows (validated with the app's activity names) and
 * the worker pools (`@pool`). A typo fails `cdk synth`, not a deployment.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { checkApp, formatProblems, objectBucketsOf, workerPoolsOf } from "../app/check.ts";
import type { AppConfig } from "../app/config.ts";
import { CODE_ROOT, MODULE_EXTENSION } from "../app/package-root.ts";

/** An app folder as the construct sees it. */
export interface AppModel {
  readonly config: AppConfig;
  /** Workflow names, sorted (for the dashboard's per-workflow widgets). */
  readonly workflows: readonly string[];
  /** Activity names exported by the app's modules, sorted. */
  readonly activities: readonly string[];
  /** Worker pools named by `@pool` activity resources: one queue and worker function each, sorted. */
  readonly workerPools: readonly string[];
  /** The buckets Maps name literally in `item_reader` (read) and `result_writer` (write). */
  readonly objectBuckets: { readonly read: readonly string[]; readonly write: readonly string[] };
}

/** Raised when the app folder has errors; `report` lists every one as `cascade validate` prints them. */
export class AppModelError extends Error {
  readonly code = "INFRA_APP_INVALID";
  readonly report: string;
  constructor(dir: string, report: string) {
    super(`the app in ${dir} has errors, nothing was synthesised:\n${report}`);
    this.name = "AppModelError";
    this.report = report;
  }
}

/**
 * Reads and checks the app in `dir`.
 * @throws AppModelError when cascade.yaml, a workflow or an activity module has an error.
 */
export async function readAppModel(dir: string): Promise<AppModel> {
  const absolute = resolve(dir);
  const checked = await checkApp(absolute, { cwd: process.cwd() });
  if (!checked.ok || !checked.config) {
    throw new AppModelError(absolute, formatProblems(checked.problems));
  }
  const definitions = checked.workflows.flatMap((w) => (w.definition ? [w.definition] : []));
  return {
    config: checked.config,
    workflows: definitions.map((d) => d.name).sort(),
    activities: [...checked.activities.keys()].sort(),
    workerPools: [...workerPoolsOf(definitions)].sort(),
    objectBuckets: objectBucketsOf(definitions),
  };
}

/** How long reading an app in a child process may take, in ms (it imports the activity modules). */
export const READ_MODEL_TIMEOUT_MS = 120_000;

/**
 * `readAppModel`, synchronously, for constructs (which are built synchronously): the app
 * is read and checked in a child process of this Node, so the user's activity modules run
 * there and never in the CDK app's own process.
 * @throws AppModelError when cascade.yaml, a workflow or an activity module has an error.
 */
export function readAppModelSync(dir: string): AppModel {
  const absolute = resolve(dir);
  const child = spawnSync(
    process.execPath,
    [join(CODE_ROOT, "lib", "infra", `read-model-child${MODULE_EXTENSION}`), absolute],
    { encoding: "utf8", timeout: READ_MODEL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) {
    throw new AppModelError(
      absolute,
      `error reading the app failed (exit ${child.status ?? child.signal}): ${child.stderr || child.error?.message || ""}`,
    );
  }
  const answer = JSON.parse(child.stdout) as
    | { ok: true; model: AppModel }
    | { ok: false; report: string };
  if (!answer.ok) throw new AppModelError(absolute, answer.report);
  return answer.model;
}
