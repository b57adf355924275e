/**
 * How a secret is named, in cascade.yaml's `activities.secrets` and in `ENV.SECRETS`:
 * the construct writes it, the functions read it at cold start. Pure; imports nothing.
 */

/** Where a secret's value is read from: a Secrets Manager secret (optionally one JSON key of it) or an SSM parameter. */
export type SecretRef =
  | { readonly source: "secretsmanager"; readonly id: string; readonly jsonKey?: string }
  | { readonly source: "ssm"; readonly id: string };

/**
 * Parses `secretsmanager:<name or ARN>[#<JSON key>]` or `ssm:<name or ARN>`; undefined
 * when it is neither (the schema's pattern reports it in cascade.yaml).
 */
export function parseSecretRef(text: string): SecretRef | undefined {
  if (text.startsWith("secretsmanager:")) {
    const [id = "", jsonKey, ...extra] = text.slice("secretsmanager:".length).split("#");
    if (id === "" || extra.length > 0 || jsonKey === "") return undefined;
    return jsonKey === undefined
      ? { source: "secretsmanager", id }
      : { source: "secretsmanager", id, jsonKey };
  }
  if (text.startsWith("ssm:")) {
    const id = text.slice("ssm:".length);
    return id === "" ? undefined : { source: "ssm", id };
  }
  return undefined;
}

/** The text form of a reference, as cascade.yaml writes it (and `ENV.SECRETS` carries it). */
export function formatSecretRef(ref: SecretRef): string {
  return ref.source === "ssm"
    ? `ssm:${ref.id}`
    : `secretsmanager:${ref.id}${ref.jsonKey === undefined ? "" : `#${ref.jsonKey}`}`;
}
