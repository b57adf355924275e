/**
 * Every template the construct synthesises, checked against CloudFormation's resource
 * specification (@aws-cdk/aws-service-spec): types exist, properties are known and of
 * the right type, required ones are present. Synth alone does not prove that: the CDK
 * passes escape hatches (`stage.defaultRouteSettings`, `addPropertyOverride`) and L1
 * props through unchecked, and CloudFormation would only refuse them at deploy.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import { CascadeWorkflows } from "../../lib/infra/index.ts";
import { repoPath } from "../helpers.ts";
import { checkTemplate, specDatabase } from "../support/cfn-spec.ts";
import { readExample, synthesise, withConfig } from "./synth-support.ts";

const templates = new Map<string, Record<string, unknown>>();

before(async () => {
  const model = await readExample();
  const json = (t: Template) => t.toJSON() as Record<string, unknown>;
  templates.set("example", json(synthesise(model).template));
  templates.set(
    "example, silo tenants, jwt, cache, provisioned concurrency",
    json(
      synthesise(
        withConfig(model, (c) => ({
          tenants: { isolation: "silo", names: ["acme", "globex"] },
          auth: {
            type: "jwt",
            issuer: "https://issuer.example.com/",
            audience: ["cascade"],
            tenantClaim: "tenant",
          },
          cache: { enabled: true, ttlSeconds: 300 },
          autoscaling: { ...c.autoscaling, engine: { min: 3, max: 10 }, api: { min: 2, max: 40 } },
          messaging: { ...c.messaging, batchingWindowSeconds: 5, visibilityTimeoutSeconds: 900 },
          platform: { architecture: "x86_64" },
          reconciler: { everyMinutes: 2, reservedConcurrency: 1 },
        })),
      ).template,
    ),
  );
  for (const fixture of ["access-app", "cache-app"]) {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "Mine", { env: { account: "123456789012", region: "eu-west-1" } });
    new CascadeWorkflows(stack, "Workflows", {
      appDir: repoPath("test", "fixtures", fixture),
      skipAppStaging: true,
    });
    templates.set(fixture, app.synth().getStackByName("Mine").template as Record<string, unknown>);
  }
});

test("every resource of every template matches CloudFormation's specification", async () => {
  const db = await specDatabase();
  const problems: string[] = [];
  let resources = 0;
  for (const [name, template] of templates) {
    resources += Object.keys(template.Resources as object).length;
    for (const problem of checkTemplate(db, template)) problems.push(`${name}: ${problem}`);
  }
  assert.deepEqual(problems, []);
  assert.ok(resources > 150, `${resources} resources checked`);
});

test("the check itself finds an unknown property, a wrong type and a missing required one", async () => {
  const db = await specDatabase();
  const problems = checkTemplate(db, {
    Resources: {
      Q: { Type: "AWS::SQS::Queue", Properties: { VisibilityTimeout: "soon", Visibility: 30 } },
      F: {
        Type: "AWS::Lambda::Function",
        Properties: {
          Code: { ZipFile: "x" },
          Role: { "Fn::GetAtt": ["R", "Arn"] },
          MemorySize: [1],
        },
      },
      G: {
        Type: "AWS::Lambda::Function",
        Properties: { Code: { ZipFile: "x" }, Environment: { Variables: { A: 1 }, Vars: {} } },
      },
      X: { Type: "AWS::Nope::Thing" },
    },
  });
  const has = (pattern: RegExp) =>
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `${pattern} in ${problems.join("\n")}`,
    );
  has(/^Q\(AWS::SQS::Queue\)\.VisibilityTimeout: expected integer/);
  has(/^Q\(AWS::SQS::Queue\): unknown property Visibility /);
  has(/^F\(AWS::Lambda::Function\)\.MemorySize: expected integer/);
  has(/^G\(AWS::Lambda::Function\): required Role is missing/);
  has(
    /^G\(AWS::Lambda::Function\)\.Environment<Environment>\.Variables\.A: expected string, got 1/,
  );
  has(/^G\(AWS::Lambda::Function\)\.Environment<Environment>: unknown property Vars/);
  has(/^X: unknown resource type AWS::Nope::Thing/);
});
