/**
 * Cold-start secrets: `ENV.SECRETS` (set by the construct from cascade.yaml's
 * `activities.secrets`) names, per environment variable, a Secrets Manager secret or an
 * SSM parameter; each is read once, before the app's activity modules are imported (so
 * a module-scope `new Pool(process.env.DATABASE_URL)` sees it), and set in the
 * environment. The template holds names only (why: lib/infra/activity-access.ts).
 */
import { ENV, parseSecretRef, type SecretRef } from "../../manifest/index.ts";
import { AwsJsonClient, type SdkClientLike } from "./json-client.ts";

/** Reads one secret's value. */
export type SecretReader = (ref: SecretRef) => Promise<string>;

/** Raised when a secret cannot be read; lists every one that failed, by variable. */
export class SecretsError extends Error {
  readonly code = "SECRETS_UNREADABLE";
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`the function's secrets could not be read:\n- ${problems.join("\n- ")}`);
    this.name = "SecretsError";
    this.problems = problems;
  }
}

/** `ENV.SECRETS` parsed: variable → reference. @throws SecretsError when it is malformed. */
export function secretsOf(
  env: Readonly<Record<string, string | undefined>>,
): Map<string, SecretRef> {
  const text = env[ENV.SECRETS];
  const refs = new Map<string, SecretRef>();
  if (text === undefined || text === "") return refs;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SecretsError([`${ENV.SECRETS} is not JSON: ${(error as Error).message}`]);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new SecretsError([`${ENV.SECRETS} must be a JSON object of variable → reference`]);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    const ref = typeof value === "string" ? parseSecretRef(value) : undefined;
    if (ref) refs.set(name, ref);
    else
      problems.push(
        `${name}: ${JSON.stringify(value)} is not secretsmanager:<id>[#<key>] or ssm:<name>`,
      );
  }
  if (problems.length > 0) throw new SecretsError(problems);
  return refs;
}

/**
 * Reads every secret `ENV.SECRETS` names, all at once, and sets each variable in `target`.
 * @returns the variables set.
 * @throws SecretsError listing every secret that could not be read (the function does not start).
 */
export async function loadSecrets(
  env: Readonly<Record<string, string | undefined>>,
  read: SecretReader,
  target: Record<string, string | undefined> = process.env,
): Promise<string[]> {
  const refs = [...secretsOf(env)];
  const results = await Promise.allSettled(refs.map(([, ref]) => read(ref)));
  const problems: string[] = [];
  results.forEach((result, index) => {
    const [name, ref] = refs[index] ?? [];
    if (name === undefined || ref === undefined) return;
    if (result.status === "fulfilled") target[name] = result.value;
    else
      problems.push(
        `${name} from ${ref.source}:${ref.id}: ${(result.reason as Error).name}: ${(result.reason as Error).message}`,
      );
  });
  if (problems.length > 0) throw new SecretsError(problems);
  return refs.map(([name]) => name);
}

/** Picks `jsonKey` out of a secret's JSON text (an RDS secret's `password`, say). */
export function secretValue(text: string, ref: SecretRef): string {
  if (ref.source !== "secretsmanager" || ref.jsonKey === undefined) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`the secret is not JSON, so it has no key '${ref.jsonKey}'`);
  }
  const value = (parsed as Record<string, unknown> | null)?.[ref.jsonKey];
  if (value === undefined) throw new Error(`the secret's JSON has no key '${ref.jsonKey}'`);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A reader over Secrets Manager's GetSecretValue and SSM's GetParameter (decrypted),
 * signed with `sdk`'s credentials and region; `endpoints` replace AWS's (tests).
 */
export function awsSecretReader(
  sdk: SdkClientLike,
  endpoints: { readonly secretsmanager?: string; readonly ssm?: string } = {},
): SecretReader {
  const secretsManager = new AwsJsonClient(sdk, {
    ...(endpoints.secretsmanager === undefined ? {} : { endpoint: endpoints.secretsmanager }),
    service: "secretsmanager",
    targetPrefix: "secretsmanager",
    jsonVersion: "1.1",
    operations: new Map(),
    maxSockets: 4,
  });
  const ssm = new AwsJsonClient(sdk, {
    ...(endpoints.ssm === undefined ? {} : { endpoint: endpoints.ssm }),
    service: "ssm",
    targetPrefix: "AmazonSSM",
    jsonVersion: "1.1",
    operations: new Map(),
    maxSockets: 4,
  });
  return async (ref) => {
    if (ref.source === "ssm") {
      const out = await ssm.call<{ Parameter?: { Value?: string } }>("GetParameter", {
        Name: ref.id,
        WithDecryption: true,
      });
      if (out.Parameter?.Value === undefined) throw new Error("the parameter has no value");
      return out.Parameter.Value;
    }
    const out = await secretsManager.call<{ SecretString?: string; SecretBinary?: string }>(
      "GetSecretValue",
      { SecretId: ref.id },
    );
    const text =
      out.SecretString ??
      (out.SecretBinary === undefined
        ? undefined
        : Buffer.from(out.SecretBinary, "base64").toString("utf8"));
    if (text === undefined) throw new Error("the secret has no value");
    return secretValue(text, ref);
  };
}
