/**
 * What the functions that run activities get from `cascade.yaml`'s `activities:` block:
 * IAM statements, environment variables and secrets. Pure: the construct turns it into
 * grants and variables (lib/infra/activity-access.ts), the AWS composition root reads
 * the secrets at cold start (lib/adapters/aws/secrets.ts), and `cascade dev` checks that
 * `.env` or the environment has every secret (`missingSecrets`).
 */
import { RESERVED_ENV_NAMES, RESERVED_ENV_PREFIXES, type SecretRef } from "../manifest/index.ts";

export { formatSecretRef, parseSecretRef, type SecretRef } from "../manifest/index.ts";

/** One IAM statement for the activities' roles. */
export interface ActivityPermission {
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/** `activities:` of cascade.yaml, with defaults (all empty). */
export interface ActivitySetup {
  /** Variable → value, on every function that runs activities. */
  readonly environment: Readonly<Record<string, string>>;
  /** Variable → where its value is read at cold start. */
  readonly secrets: Readonly<Record<string, SecretRef>>;
  readonly permissions: readonly ActivityPermission[];
}

export const EMPTY_ACTIVITY_SETUP: ActivitySetup = {
  environment: {},
  secrets: {},
  permissions: [],
};

/** A POSIX-style environment variable name. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a variable name cannot be set by an app, or undefined when it can. */
export function reservedEnvName(name: string): string | undefined {
  if (RESERVED_ENV_NAMES.includes(name as (typeof RESERVED_ENV_NAMES)[number]))
    return `${name} is set by Lambda`;
  const prefix = RESERVED_ENV_PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined
    ? undefined
    : `names starting with ${prefix} belong to Lambda or Cascade`;
}

/** UTF-8 bytes of the variables as Lambda counts them (keys plus values). */
export function environmentBytes(variables: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(variables))
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/**
 * The secrets of `setup` that `env` does not set (locally, `.env` or the shell must give
 * each one the value it has on AWS), sorted.
 */
export function missingSecrets(
  setup: ActivitySetup,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  return Object.keys(setup.secrets)
    .filter((name) => env[name] === undefined || env[name] === "")
    .sort();
}
