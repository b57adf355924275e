/**
 * How the functions are bundled: esbuild on this machine (never Docker), one ESM
 * file per function with every dependency inside (the AWS SDK too, so the code
 * that runs is the code that was tested), and the app beside it in `app/`:
 * `cascade.yaml`, the workflow files (nested folders kept) and the activity modules
 * bundled to `.mjs` in one build with code splitting: what two modules share (a
 * `db.ts` holding a pool at module scope) is one chunk, so one instance per process.
 *
 * Why not one entry importing the app statically: the functions load the app
 * through `ENV.APP_DIR` (lib/app/load.ts), the same code path as `cascade dev`,
 * and the activity modules are pre-bundled, so a cold start reads a few small
 * files and compiles nothing (no TypeScript at runtime, no `node_modules`).
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { type BundlingOptions, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { buildSync } from "esbuild";
import { isMap, parseDocument } from "yaml";
import type { AppConfig } from "../app/config.ts";
import { discoverApp, workflowRelativePath } from "../app/discover.ts";
import { CODE_ROOT, findProject, MODULE_EXTENSION, PACKAGE_ROOT } from "../app/package-root.ts";

/** Cascade's own package root (this repository, or the installed package). */
export const PROJECT_ROOT = PACKAGE_ROOT;

/** The Lambda entry points: stems under `functions/` (`.ts` in the sources, `.js` once compiled). */
export const FUNCTION_ENTRIES = {
  api: "api",
  engine: "engine",
  worker: "worker",
  deadLetter: "dead-letter",
  reconciler: "reconciler",
} as const;
export type FunctionKind = keyof typeof FUNCTION_ENTRIES;

/** The entry file of a function, as this copy of Cascade runs (its sources or its compiled JS). */
export function functionEntry(kind: FunctionKind): string {
  return join(CODE_ROOT, "functions", `${FUNCTION_ENTRIES[kind]}${MODULE_EXTENSION}`);
}

/** Raised when no lockfile is found above an app folder; the CDK bundles with the project's lockfile. */
export class ProjectNotFoundError extends Error {
  readonly code = "INFRA_NO_LOCKFILE";
  constructor(dir: string) {
    super(
      `no lockfile (package-lock.json, pnpm-lock.yaml, yarn.lock, bun.lock) at or above ${dir}: run npm install in your project, or pass projectRoot and depsLockFilePath`,
    );
    this.name = "ProjectNotFoundError";
  }
}

/**
 * The project the functions are bundled in: the nearest folder at or above the app
 * holding a lockfile (the user's project; this repository for its examples). When the
 * functions' entries lie outside it (Cascade linked rather than installed), the root is
 * the folder holding both, as NodejsFunction requires entries under its project root.
 * @throws ProjectNotFoundError when there is no lockfile above `appDir`.
 */
export function bundlingProject(appDir: string): { root: string; lockfile: string } {
  const found = findProject(appDir);
  if (!found) throw new ProjectNotFoundError(appDir);
  return {
    root: commonAncestor(found.root, dirname(functionEntry("engine"))),
    lockfile: found.lockfile,
  };
}

function commonAncestor(a: string, b: string): string {
  let root = a;
  while (relative(root, b).startsWith("..") || relative(root, b).startsWith(sep))
    root = dirname(root);
  return root;
}

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

/**
 * Writes the app as the functions read it, into a new folder: `cascade.yaml` (its
 * `name`, `workflows` and `activities` pointed at the copies), the workflow files at
 * their paths under `workflows/`, and `activities/<module>.mjs` bundled by esbuild
 * (shared code in `activities/chunks/`, which the loader never lists). Returns the folder.
 */
export function stageApp(config: AppConfig): string {
  const out = mkdtempSync(join(tmpdir(), "cascade-app-"));
  const workflowsOut = join(out, "workflows");
  mkdirSync(workflowsOut);
  const files = discoverApp(config);
  for (const file of files.workflowFiles) {
    const target = join(workflowsOut, workflowRelativePath(config.workflows, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }

  if (files.activityModules.length > 0) {
    buildSync({
      entryPoints: [...files.activityModules],
      outdir: join(out, "activities"),
      outExtension: { ".js": ".mjs" },
      splitting: true,
      chunkNames: "chunks/[name]-[hash]",
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
  // The block form keeps its environment, secrets and permissions; only the path moves.
  if (isMap(doc.get("activities"))) doc.setIn(["activities", "path"], "activities");
  else doc.set("activities", "activities");
  writeFileSync(join(out, "cascade.yaml"), doc.toString());
  // The web console, where the package was built (`npm run build`, or `npm run build:console`
  // in a checkout): the api function serves it at `/`.
  if (existsSync(join(CONSOLE_BUILD_DIR, "index.html")))
    cpSync(CONSOLE_BUILD_DIR, join(out, CONSOLE_ASSET_DIR), { recursive: true });
  return out;
}

/** The built console in Cascade's package (`dist/console`). */
export const CONSOLE_BUILD_DIR = join(PACKAGE_ROOT, "dist", "console");
/** Where the console's files land in the staged app (the api function reads `<app>/console`). */
export const CONSOLE_ASSET_DIR = "console";

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The shell command that copies the staged app into a bundle's output folder. */
export function copyAppCommand(staged: string, outputDir: string): string {
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  return `mkdir -p ${q(join(outputDir, APP_ASSET_DIR))} && cp -R ${q(`${staged}/.`)} ${q(join(outputDir, APP_ASSET_DIR))}`;
}
