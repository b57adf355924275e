/**
 * Where Cascade's own files are, whether it runs from this repository's TypeScript
 * sources (`lib/…/*.ts`) or from the published package's compiled JavaScript
 * (`node_modules/<package>/dist/lib/…/*.js`), and where the user's project is.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, parse, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(import.meta.url);

/**
 * The folder that holds `lib/`, `functions/` and `bin/` as they run: the repository
 * root from the sources, `<package>/dist` once compiled.
 */
export const CODE_ROOT = resolve(dirname(HERE), "..", "..");

/** `.ts` from the sources, `.js` once compiled: the extension of every module beside this one. */
export const MODULE_EXTENSION = extname(HERE);

/** The folder of Cascade's own package.json (the repository root, or the installed package). */
export const PACKAGE_ROOT = findUp(CODE_ROOT, (dir) => existsSync(join(dir, "package.json")));

/** Cascade's package.json: its name and version. */
export const PACKAGE = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as {
  readonly name: string;
  readonly version: string;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
};

/** The lockfiles a project may have, in the order the CDK's NodejsFunction looks for them. */
export const LOCKFILES = [
  "pnpm-lock.yaml",
  "yarn.lock",
  "bun.lockb",
  "bun.lock",
  "package-lock.json",
] as const;

/**
 * The user's project around `dir`: the nearest folder at or above it holding a lockfile,
 * and that lockfile; undefined when there is none up to the file system's root.
 */
export function findProject(dir: string): { root: string; lockfile: string } | undefined {
  let current = resolve(dir);
  for (;;) {
    for (const name of LOCKFILES) {
      const lockfile = join(current, name);
      if (existsSync(lockfile)) return { root: current, lockfile };
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function findUp(start: string, found: (dir: string) => boolean): string {
  let current = start;
  const { root } = parse(current);
  while (!found(current)) {
    if (current === root) return start;
    current = dirname(current);
  }
  return current;
}
