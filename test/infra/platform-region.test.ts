/**
 * cascade.yaml's `platform.region`: the region `CascadeStack` deploys to (the synthesised
 * stack's environment), unless the caller passes an `env`; a region that differs from
 * the stack's is a synth warning. Without the key the stack stays environment-agnostic.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match } from "aws-cdk-lib/assertions";
import { CascadeStack } from "../../lib/infra/cascade-stack.ts";
import { readExample, withConfig } from "./synth-support.ts";

const model = await readExample();
const inRegion = withConfig(model, (c) => ({
  platform: { ...c.platform, region: "eu-west-1" },
}));
const stackIn = (m: typeof model, env?: { region: string }) => {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new CascadeStack(app, "Region", {
    app: m,
    skipAppStaging: true,
    ...(env ? { env } : {}),
  });
  return { app, stack };
};

test("platform.region is the region the stack deploys to", () => {
  const { app, stack } = stackIn(inRegion);
  assert.equal(stack.region, "eu-west-1");
  const artifact = app.synth().getStackByName(stack.stackName);
  assert.equal(artifact.environment.region, "eu-west-1");
  assert.equal(artifact.environment.account, "unknown-account", "the account is not looked up");
  Annotations.fromStack(stack).hasNoWarning("*", Match.stringLikeRegexp("platform.region"));
});

test("without platform.region the stack is environment-agnostic", () => {
  const { app, stack } = stackIn(model);
  assert.equal(app.synth().getStackByName(stack.stackName).environment.region, "unknown-region");
});

test("an env the caller passes wins over platform.region, with a warning", () => {
  const { stack } = stackIn(inRegion, { region: "us-east-1" });
  assert.equal(stack.region, "us-east-1");
  Annotations.fromStack(stack).hasWarning(
    "*",
    Match.stringLikeRegexp("platform.region is eu-west-1, but this stack deploys to us-east-1"),
  );
  assert.ok(Stack.of(stack.app).region === "us-east-1");
});
