/**
 * The app's local environment file: `<app>/.env` (KEY=value lines, as Node's
 * `--env-file` reads them), for the environment variables and secrets activities get
 * from the construct on AWS. `cascade dev` and `cascade run` read it; variables already
 * set in the environment win. It is never committed (`cascade init`'s .gitignore).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import type { Diagnostic } from "../core/cdl/index.ts";
import { CONFIG_CODES, loadAppConfig } from "./config.ts";

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

/**
 * What `cascade dev` and `cascade run` do before starting an app: set the variables of
 * `<dir>/.env`, then check that every secret `cascade.yaml` names (`activities.secrets`)
 * is set, as it will be on AWS. Returns the variables read and one CONFIG_SECRET_MISSING
 * diagnostic (with line and column) per missing secret; other problems of cascade.yaml
 * are left to the app's own check.
 */
export async function prepareLocalEnvironment(
  dir: string,
  display: string,
  env: Record<string, string | undefined> = process.env,
): Promise<{ fromEnvFile: string[]; missing: Diagnostic[] }> {
  const fromEnvFile = loadAppEnvFile(dir, env);
  const { diagnostics } = await loadAppConfig(dir, { display, secretsFrom: env });
  return {
    fromEnvFile,
    missing: diagnostics.filter((d) => d.code === CONFIG_CODES.SECRET_MISSING),
  };
}
