/**
 * How the functions are bundled: esbuild on this machine (never Docker), one ESM
 * file per function with every dependency inside (the AWS SDK too, so the code
 * that runs is the code that was tested), and the app beside it in `app/`:
 * `cascade.yaml`, the workflow files and each activity module bundled to `.mjs`.
 *
 * Why not one entry importing the app statically: the functions load the app
 * through `ENV.APP_DIR` (lib/app/load.ts), the same code path as `cascade dev`,
 * and the activity modules are pre-bundled, so a cold start reads a few small
 * files and compiles nothing (no TypeScript at runtime, no `node_modules`).
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BundlingOptions, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { buildSync } from "esbuild";
import { parseDocument } from "yaml";
import type { AppConfig } from "../app/config.ts";

/** The repository root: the functions' entries and the lockfile live under it. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The Lambda entry points, relative to PROJECT_ROOT. */
export const FUNCTION_ENTRIES = {
  api: "functions/api.ts",
  engine: "functions/engine.ts",
  worker: "functions/worker.ts",
  deadLetter: "functions/dead-letter.ts",
  reconciler: "functions/reconciler.ts",
} as const;
export type FunctionKind = keyof typeof FUNCTION_ENTRIES;

/** The folder inside each bundle that holds the app (ENV.APP_DIR points at it). */
export const APP_ASSET_DIR = "app";
/** Where Lambda unpacks the bundle. */
export const LAMBDA_TASK_ROOT = "/var/task";

/** ESM needs `require` for the CommonJS dependencies esbuild inlines. */
const REQUIRE_BANNER =
  "import { createRequire as __cascadeRequire } from 'node:module'; const require = __cascadeRequire(import.meta.url);";

/** The esbuild settings of every function (the construct adds the hook that copies the app in). */
export const FUNCTION_BUNDLING = {
  format: OutputFormat.ESM,
  target: "node24",
  minify: true,
  sourceMap: false,
  keepNames: true,
  mainFields: ["module", "main"],
  banner: REQUIRE_BANNER,
  // Bundle everything, the AWS SDK included: the runtime's SDK version is not ours to pick.
  externalModules: [],
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

const MODULE_EXTENSIONS = /\.(ts|mts|js|mjs)$/;
const SKIPPED = /\.(test|spec|d)\.(ts|mts|js|mjs)$/;
const WORKFLOW_EXTENSIONS = /\.ya?ml$/;

/**
 * Writes the app as the functions read it, into a new folder: `cascade.yaml` (its
 * `name`, `workflows` and `activities` pointed at the copies), `workflows/*.yaml`,
 * and `activities/<module>.mjs` bundled by esbuild. Returns the folder.
 */
export function stageApp(config: AppConfig): string {
  const out = mkdtempSync(join(tmpdir(), "cascade-app-"));
  const workflowsOut = join(out, "workflows");
  mkdirSync(workflowsOut);
  const workflowFiles = existsDir(config.workflows)
    ? readdirSync(config.workflows)
        .filter((f) => WORKFLOW_EXTENSIONS.test(f))
        .sort()
    : [];
  for (const file of workflowFiles)
    copyFileSync(join(config.workflows, file), join(workflowsOut, file));

  const activityFiles = activityModules(config.activities);
  if (activityFiles.length > 0) {
    buildSync({
      entryPoints: activityFiles,
      outdir: join(out, "activities"),
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: FUNCTION_BUNDLING.target,
      minify: FUNCTION_BUNDLING.minify,
      keepNames: FUNCTION_BUNDLING.keepNames,
      mainFields: [...FUNCTION_BUNDLING.mainFields],
      banner: { js: REQUIRE_BANNER },
      logLevel: "error",
    });
  }

  const source = join(config.dir, "cascade.yaml");
  const doc = parseDocument(existsFile(source) ? readFileSync(source, "utf8") : "{}");
  doc.set("name", config.name);
  doc.set("workflows", "workflows");
  doc.set("activities", "activities");
  writeFileSync(join(out, "cascade.yaml"), doc.toString());
  return out;
}

/** The activity module files behind `path` (a module or a folder of them), as lib/app/activities.ts reads them. */
function activityModules(path: string): string[] {
  if (existsFile(path)) return [path];
  if (!existsDir(path)) return [];
  return readdirSync(path)
    .filter((f) => MODULE_EXTENSIONS.test(f) && !SKIPPED.test(f))
    .sort()
    .map((f) => join(path, f))
    .filter(existsFile);
}

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function existsDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The shell command that copies the staged app into a bundle's output folder. */
export function copyAppCommand(staged: string, outputDir: string): string {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return `mkdir -p ${q(join(outputDir, APP_ASSET_DIR))} && cp -R ${q(`${staged}/.`)} ${q(join(outputDir, APP_ASSET_DIR))}`;
}
