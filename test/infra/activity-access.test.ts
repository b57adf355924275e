/** cascade.yaml's `activities:` block on AWS: the statements, variables and secret grants land on the functions that run activities, and nowhere else. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import { readAppConfig } from "../../lib/app/config.ts";
import { CascadeWorkflows, stageApp } from "../../lib/infra/index.ts";
import { ENV } from "../../lib/manifest/index.ts";
import { repoPath } from "../helpers.ts";

const APP_DIR = repoPath("test", "fixtures", "access-app");

function synth() {
  const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Access", {
    env: { account: "123456789012", region: "eu-west-1" },
  });
  const workflows = new CascadeWorkflows(stack, "Workflows", {
    appDir: APP_DIR,
    skipAppStaging: true,
    activityEnvironment: { FROM_CODE: "yes" },
  });
  workflows.addToActivitiesRolePolicy(
    new iam.PolicyStatement({
      actions: ["kms:Decrypt"],
      resources: ["arn:aws:kms:eu-west-1:123456789012:key/k"],
    }),
  );
  return { workflows, template: Template.fromStack(stack) };
}

const statementsOf = (template: Template, fn: string): unknown[] => {
  const role = (
    template.findResources("AWS::Lambda::Function")[fn] as {
      Properties: { Role: { "Fn::GetAtt": [string, string] } };
    }
  ).Properties.Role["Fn::GetAtt"][0];
  return Object.values(
    template.findResources("AWS::IAM::Policy", {
      Properties: { Roles: [{ Ref: role }] },
    }),
  ).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
        .Statement,
  );
};

test("the engine and every worker pool get the statements, variables and secrets; the API does not", () => {
  const { workflows, template } = synth();
  const logicalId = (fn: { node: { defaultChild?: unknown } }) =>
    Stack.of(workflows).getLogicalId(fn.node.defaultChild as never);
  const runners = workflows.activityFunctions.map(logicalId);
  assert.equal(runners.length, 2, "the engine and the `mail` pool's worker");
  const secrets = JSON.stringify({
    STRIPE_KEY: "secretsmanager:prod/stripe",
    DB_PASSWORD:
      "secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf#password",
    API_TOKEN: "ssm:/access-app/api-token",
  });
  for (const id of runners) {
    const fn = template.findResources("AWS::Lambda::Function")[id] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const variables = fn.Properties.Environment.Variables;
    assert.equal(variables.ORDERS_TABLE, "orders");
    assert.equal(variables.FROM_CODE, "yes");
    // Names only: the values are read at cold start, never written into the template.
    assert.equal(variables[ENV.SECRETS], secrets);
    const statements = JSON.stringify(statementsOf(template, id));
    assert.ok(
      statements.includes('"Action":"ses:SendEmail","Effect":"Allow","Resource":"*"'),
      statements,
    );
    assert.ok(statements.includes('"Action":"kms:Decrypt"'));
    // Secrets Manager adds six characters to a name; an ARN given whole is granted as it is.
    assert.match(
      statements,
      /"Action":"secretsmanager:GetSecretValue","Effect":"Allow","Resource":\[\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":secretsmanager:eu-west-1:123456789012:secret:prod\/stripe-\?\?\?\?\?\?"\]\]\},"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"\]/,
    );
    assert.match(
      statements,
      /"Action":"ssm:GetParameter","Effect":"Allow","Resource":\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ssm:eu-west-1:123456789012:parameter\/access-app\/api-token"\]\]\}/,
    );
  }
  const api = logicalId(workflows.api);
  const apiStatements = JSON.stringify(statementsOf(template, api));
  assert.ok(!apiStatements.includes("ses:SendEmail") && !apiStatements.includes("GetSecretValue"));
  template.hasResourceProperties("AWS::Lambda::Function", {
    Description: Match.stringLikeRegexp("HTTP API"),
    Environment: { Variables: Match.not(Match.objectLike({ ORDERS_TABLE: Match.anyValue() })) },
  });
});

test("the staged app keeps the block, with its path pointed at the bundled modules", async () => {
  const config = await readAppConfig(APP_DIR);
  const staged = stageApp(config);
  const copy = await readAppConfig(staged);
  assert.equal(copy.activities, join(staged, "activities"));
  assert.deepEqual(copy.activitySetup, config.activitySetup);
});

test("the construct refuses a variable of Lambda's or Cascade's", () => {
  const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Reserved");
  const workflows = new CascadeWorkflows(stack, "Workflows", {
    appDir: APP_DIR,
    skipAppStaging: true,
  });
  for (const name of ["AWS_REGION", "CASCADE_TABLE", "_HANDLER"])
    assert.throws(() => workflows.addActivityEnvironment(name, "x"), {
      name: "CascadeInfraError",
      code: "INFRA_RESERVED_ENV",
    });
});

test("the engine may read the buckets Maps read items from and write the ones they write results to", () => {
  const { workflows, template } = synth();
  const engine = Stack.of(workflows).getLogicalId(
    workflows.activityFunctions[0]?.node.defaultChild as never,
  );
  const statements = JSON.stringify(statementsOf(template, engine));
  assert.match(
    statements,
    /"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::acme-orders\/\*"/,
  );
  assert.match(
    statements,
    /"Action":"s3:ListBucket","Effect":"Allow","Resource":"arn:aws:s3:::acme-orders"/,
  );
  assert.match(
    statements,
    /"Action":\["s3:PutObject","s3:AbortMultipartUpload"\],"Effect":"Allow","Resource":"arn:aws:s3:::acme-results\/\*"/,
  );
});
