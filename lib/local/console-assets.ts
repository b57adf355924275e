/**
 * The console's files: built by esbuild from `lib/console/` (Preact and dagre bundled in,
 * nothing loaded from the network), or read from `dist/console/` where the package was
 * built (`npm run build`) and its sources are not there.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import {
  CONSOLE_FILES,
  type ConsoleAsset,
  type ConsoleAssets,
  readConsoleDir,
} from "../api/console.ts";
import { PACKAGE_ROOT } from "../app/package-root.ts";

/** The console's sources, in this repository. */
export const CONSOLE_SOURCE_DIR = join(PACKAGE_ROOT, "lib", "console");
/** Where `npm run build` writes the built console (shipped in the package). */
export const CONSOLE_DIST_DIR = join(PACKAGE_ROOT, "dist", "console");

/** Bundles the console from its sources (minified). About a second on a slow machine. */
export async function buildConsole(sourceDir: string = CONSOLE_SOURCE_DIR): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [join(sourceDir, "main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    write: false,
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const js = result.outputFiles[0]?.text ?? "";
  const text = (name: string) => readFileSync(join(sourceDir, name), "utf8");
  const bodies: Record<(typeof CONSOLE_FILES)[number]["name"], string> = {
    "index.html": text("index.html"),
    "app.js": js,
    "app.css": text("app.css"),
  };
  return new Map(
    CONSOLE_FILES.map((f): [string, ConsoleAsset] => [
      f.path,
      { contentType: f.contentType, body: bodies[f.name] },
    ]),
  );
}

/** Reads the built console from `dir`; undefined when it was never built there. */
export function readConsoleAssets(dir: string = CONSOLE_DIST_DIR): ConsoleAssets | undefined {
  return readConsoleDir(dir);
}

/** Writes `assets` into `dir` (what `npm run build` ships). */
export function writeConsoleAssets(assets: ConsoleAssets, dir: string = CONSOLE_DIST_DIR): void {
  mkdirSync(dir, { recursive: true });
  for (const f of CONSOLE_FILES) {
    const asset = assets.get(f.path);
    if (asset) writeFileSync(join(dir, f.name), asset.body);
  }
}

let loaded: Promise<ConsoleAssets | undefined> | undefined;

/**
 * The console for `cascade dev`: built from the sources when they are here (current at
 * the process's start; built once per process), else the package's built copy;
 * undefined when neither is there.
 */
export function loadConsoleAssets(): Promise<ConsoleAssets | undefined> {
  loaded ??= existsSync(join(CONSOLE_SOURCE_DIR, "main.tsx"))
    ? buildConsole()
    : Promise.resolve(readConsoleAssets());
  return loaded;
}
