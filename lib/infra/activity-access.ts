/**
 * cascade.yaml's `activities:` block on AWS: its IAM statements on the role of every
 * function that runs activities, its environment on those functions, and its secrets
 * as read grants plus one variable (`ENV.SECRETS`) naming where each value lives.
 *
 * Why the runtime reads secrets at cold start rather than CloudFormation dynamic
 * references (`{{resolve:secretsmanager:…}}`) in the variables: a resolved reference
 * puts the plaintext in the function's configuration, where anyone allowed
 * `lambda:GetFunctionConfiguration` reads it and every console page shows it; SSM
 * SecureString references are not supported in Lambda variables at all; and a rotated
 * secret would only reach the functions at the next deployment. Read at cold start, the
 * value lives only in the process, a new instance sees a rotation, and the template
 * holds names only.
 */
import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import type { ActivitySetup, SecretRef } from "../app/activity-setup.ts";
import { formatSecretRef } from "../app/activity-setup.ts";
import { ENV } from "../manifest/index.ts";

/** Secrets Manager appends `-` and six characters to a secret's name in its ARN. */
const SECRET_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The IAM resource of a secret or parameter, as `ref` names it (a name in this account and region, or an ARN). */
export function secretResourceArn(stack: Stack, ref: SecretRef): string {
  if (ref.source === "secretsmanager") {
    if (ref.id.startsWith("arn:"))
      return SECRET_ARN_SUFFIX.test(ref.id) ? ref.id : `${ref.id}-??????`;
    return stack.formatArn({
      service: "secretsmanager",
      resource: "secret",
      resourceName: `${ref.id}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
  if (ref.id.startsWith("arn:")) return ref.id;
  return stack.formatArn({
    service: "ssm",
    resource: "parameter",
    resourceName: ref.id.replace(/^\//, ""),
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** The actions that read a secret (Secrets Manager) or a parameter (SSM, decrypted). */
export const SECRET_READ_ACTIONS = {
  secretsmanager: ["secretsmanager:GetSecretValue"],
  ssm: ["ssm:GetParameter"],
} as const;

/**
 * Gives `functions` what `setup` asks for. Secrets encrypted with a customer managed KMS
 * key also need `kms:Decrypt` on that key: add it with `addToActivitiesRolePolicy`.
 */
export function applyActivitySetup(
  scope: Construct,
  setup: ActivitySetup,
  functions: readonly lambda.Function[],
): void {
  const stack = Stack.of(scope);
  const statements = setup.permissions.map(
    (p) =>
      new iam.PolicyStatement({
        effect: p.effect === "Deny" ? iam.Effect.DENY : iam.Effect.ALLOW,
        actions: [...p.actions],
        resources: [...p.resources],
      }),
  );
  const secrets = Object.entries(setup.secrets);
  for (const source of ["secretsmanager", "ssm"] as const) {
    const resources = [
      ...new Set(
        secrets
          .filter(([, ref]) => ref.source === source)
          .map(([, ref]) => secretResourceArn(stack, ref)),
      ),
    ];
    if (resources.length > 0)
      statements.push(
        new iam.PolicyStatement({ actions: [...SECRET_READ_ACTIONS[source]], resources }),
      );
  }
  const secretsVariable =
    secrets.length > 0
      ? JSON.stringify(
          Object.fromEntries(secrets.map(([name, ref]) => [name, formatSecretRef(ref)])),
        )
      : undefined;
  for (const fn of functions) {
    for (const statement of statements) fn.addToRolePolicy(statement);
    for (const [name, value] of Object.entries(setup.environment)) fn.addEnvironment(name, value);
    if (secretsVariable !== undefined) fn.addEnvironment(ENV.SECRETS, secretsVariable);
  }
}
