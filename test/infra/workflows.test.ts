/** CascadeWorkflows in a user's stack: synchronous appDir, grants for callers, metrics, the activities' role and environment, a VPC of one's own. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { CascadeWorkflows } from "../../lib/infra/index.ts";
import { EXAMPLE_DIR } from "./synth-support.ts";

test("appDir is read synchronously; callers and activities get what they are granted", () => {
  const app = new App();
  const stack = new Stack(app, "Mine");
  const workflows = new CascadeWorkflows(stack, "Workflows", {
    appDir: EXAMPLE_DIR,
    skipAppStaging: true,
    activityEnvironment: { ORDERS_TABLE: "orders" },
  });
  assert.equal(workflows.appName, "order-processing");
  const caller = new iam.Role(stack, "Caller", { assumedBy: new iam.AccountRootPrincipal() });
  workflows.grantStartExecution(caller);
  workflows.grantRead(caller);
  workflows.grantSignal(caller);
  workflows.addToActivitiesRolePolicy(
    new iam.PolicyStatement({ actions: ["ses:SendEmail"], resources: ["*"] }),
  );
  const failed = workflows.metricWorkflowFailed("OrderFulfillment");
  assert.equal(failed.metricName, "WorkflowOutcome");
  assert.deepEqual(failed.dimensions, {
    app: "order-processing",
    workflow: "OrderFulfillment",
    outcome: "failed",
  });
  assert.equal(
    workflows.metricActivityDuration("OrderFulfillment", "check_credit").statistic,
    "p99",
  );
  const template = Template.fromStack(stack);
  const invoke = JSON.stringify(
    Object.values(
      template.findResources("AWS::IAM::Policy", {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp("Caller") }] },
      }),
    ),
  );
  for (const route of [
    "/POST/v1/apps/order-processing/workflows/*/executions",
    "/GET/v1/apps/order-processing/*",
    "/POST/v1/apps/order-processing/executions/*/events",
    "/POST/v1/apps/order-processing/executions/*/cancel",
  ])
    assert.ok(invoke.includes(route), `${route} in ${invoke}`);
  assert.ok(invoke.includes("execute-api:Invoke"));
  // The engine runs inline Tasks, the workers regional ones: both get the statement and the variable.
  const functions = template.findResources("AWS::Lambda::Function", {
    Properties: { Environment: { Variables: { ORDERS_TABLE: "orders" } } },
  });
  assert.equal(Object.keys(functions).length, 1 + workflows.workers.size);
  const ses = template.findResources("AWS::IAM::Policy", {
    Properties: {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: "ses:SendEmail" })]),
      },
    },
  });
  assert.equal(Object.keys(ses).length, 1 + workflows.workers.size);
});

test("a VPC of one's own is used for the cache instead of a new one", () => {
  const app = new App();
  const stack = new Stack(app, "Net");
  const vpc = new ec2.Vpc(stack, "Mine", { maxAzs: 2, natGateways: 1 });
  // The example app's cache is off: this test turns it on through a copy of the app.
  const workflows = new CascadeWorkflows(stack, "Workflows", {
    appDir: `${EXAMPLE_DIR}/../../test/fixtures/cache-app`,
    skipAppStaging: true,
    vpc: vpc as ec2.IVpc,
  });
  assert.equal(workflows.vpc, vpc);
  Template.fromStack(stack).resourceCountIs("AWS::EC2::VPC", 1);
});
