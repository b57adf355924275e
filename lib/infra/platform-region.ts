/**
 * `platform.region` of cascade.yaml: the region a `CascadeStack` deploys to (its `env`,
 * unless the caller passes one), and a check that an app built into someone else's
 * stack is not deployed to another region than the one it names.
 */
import { Annotations, Stack, Token } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { AppConfig } from "../app/config.ts";

/** The id of the warning for a stack whose region is not `platform.region`. */
export const PLATFORM_REGION_WARNING = "cascade:platform-region";

/**
 * Warns (a CDK annotation) when `scope`'s stack is deployed to a known region other than
 * `platform.region`; says nothing for an environment-agnostic stack or without the key.
 */
export function checkPlatformRegion(scope: Construct, config: AppConfig): void {
  const wanted = config.platform.region;
  const region = Stack.of(scope).region;
  if (wanted === undefined || Token.isUnresolved(region) || region === wanted) return;
  Annotations.of(scope).addWarningV2(
    PLATFORM_REGION_WARNING,
    `cascade.yaml's platform.region is ${wanted}, but this stack deploys to ${region}: the stack's env wins; change one of them`,
  );
}
