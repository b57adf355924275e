/**
 * The app's local environment file: `<app>/.env` (KEY=value lines, as Node's
 * `--env-file` reads them), for the environment variables and secrets activities get
 * from the construct on AWS. `cascade dev` and `cascade run` read it; variables already
 * set in the environment win. It is never committed (`cascade init`'s .gitignore).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";

/** The file's name inside the app folder. */
export const ENV_FILE = ".env";

/**
 * Sets the variables of `<dir>/.env` that `env` does not have yet; returns their names
 * (none when there is no file).
 */
export function loadAppEnvFile(
  dir: string,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const file = join(dir, ENV_FILE);
  if (!existsSync(file)) return [];
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, "utf8")))) {
    if (env[name] !== undefined || value === undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}
