/**
 * The example app's stack: every resource and setting issue 6 lists, asserted with
 * targeted `hasResourceProperties` on one synthesis (no snapshots), and cdk-nag's
 * AwsSolutions pack with zero unacknowledged findings.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { App } from "aws-cdk-lib";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { MAX_DURATION_MS } from "../../lib/core/cdl/index.ts";
import {
  RECONCILER_DYNAMODB_ACTIONS,
  RECONCILER_MAX_TIMEOUT_SECONDS,
  RECONCILER_MEMORY_MB,
} from "../../lib/infra/cascade-app.ts";
import { CascadeStack } from "../../lib/infra/cascade-stack.ts";
import type { AppModel } from "../../lib/infra/model.ts";
import { ALARM_THRESHOLDS } from "../../lib/infra/observability.ts";
import { ENV, PAYLOAD_PREFIX, QUEUE_DEFAULTS, TABLE } from "../../lib/manifest/index.ts";
import { readExample, synthesise, withConfig } from "./synth-support.ts";

let model: AppModel;
let template: Template;
let nag: string[];
/** The same app with every optional knob turned: silo tenants, JWT, cache, provisioned concurrency. */
let tuned: { template: Template; nag: string[] };
/** The same app behind IAM (SigV4) authorization. */
let iamOnly: { template: Template; nag: string[] };

before(async () => {
  model = await readExample();
  ({ template, nag } = synthesise(model));
  tuned = synthesise(
    withConfig(model, (c) => ({
      tenants: { isolation: "silo", names: ["acme", "globex"] },
      auth: {
        type: "jwt",
        issuer: "https://issuer.example.com/",
        audience: ["cascade"],
        tenantClaim: "tenant",
      },
      cache: { enabled: true, ttlSeconds: 300, maxMemoryGb: 4 },
      autoscaling: { ...c.autoscaling, engine: { min: 3, max: 1 }, api: { min: 2, max: 40 } },
      messaging: {
        batchSize: 50,
        batchingWindowSeconds: 5,
        maxReceiveCount: 7,
        visibilityTimeoutSeconds: 900,
      },
      platform: { architecture: "x86_64" },
      retentionDays: 7,
      reconciler: { everyMinutes: 2, reservedConcurrency: 1 },
    })),
  );
  iamOnly = synthesise(
    withConfig(model, (c) => ({ auth: { type: "iam", tenantClaim: c.auth.tenantClaim } })),
  );
});

/** The AuthorizationType of every route, by route key. */
const routeAuth = (t: Template) =>
  Object.fromEntries(
    Object.values(t.findResources("AWS::ApiGatewayV2::Route")).map((r) => [
      String(r.Properties?.RouteKey),
      r.Properties?.AuthorizationType,
    ]),
  );

/** The logical id and properties of the one function whose description matches. */
const fnResource = (t: Template, description: RegExp) => {
  const found = Object.entries(t.findResources("AWS::Lambda::Function")).filter(([, r]) =>
    description.test(String(r.Properties?.Description)),
  );
  assert.equal(found.length, 1, `${found.length} functions match ${description}`);
  const [id, resource] = found[0] as [string, { Properties: unknown }];
  return {
    id,
    props: resource.Properties as {
      MemorySize: number;
      Timeout: number;
      Environment: { Variables: Record<string, unknown> };
      Architectures: string[];
      Runtime: string;
      ReservedConcurrentExecutions?: number;
      VpcConfig?: unknown;
    },
  };
};
const fnEnv = (t: Template, description: RegExp) => fnResource(t, description).props;
const RECONCILER = /re-sends the work/;

/** The statements of the policies attached to the role of function `fnId`. */
const statementsOf = (t: Template, fnId: string) => {
  const fn = t.findResources("AWS::Lambda::Function")[fnId];
  assert.ok(fn, `no function ${fnId}`);
  const role = (fn.Properties.Role as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
  return Object.values(t.findResources("AWS::IAM::Policy"))
    .filter((p) => JSON.stringify(p.Properties?.Roles).includes(`"${role}"`))
    .flatMap(
      (p) =>
        p.Properties?.PolicyDocument?.Statement as {
          Action: string | string[];
          Resource: unknown;
        }[],
    )
    .map((st) => ({ actions: [st.Action].flat(), resource: JSON.stringify(st.Resource) }));
};

describe("the example app's stack", () => {
  test("cdk-nag's AwsSolutions pack finds nothing unacknowledged", () => {
    assert.deepEqual(nag, []);
  });

  test("one table: on demand, PITR, encrypted, TTL, both GSIs from the manifest", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: Object.values(TABLE.indexes).map((index) =>
        Match.objectLike({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        }),
      ),
    });
  });

  test("queues: transitions and one per worker pool, each with an encrypted DLQ and redrive", () => {
    // transitions + eu-west + us-east, each with its DLQ
    template.resourceCountIs("AWS::SQS::Queue", 6);
    template.hasResourceProperties("AWS::SQS::Queue", {
      SqsManagedSseEnabled: true,
      // engine timeout 60 s × 6
      VisibilityTimeout: 360,
      ReceiveMessageWaitTimeSeconds: QUEUE_DEFAULTS.receiveWaitSeconds,
      MessageRetentionPeriod: QUEUE_DEFAULTS.retentionSeconds,
      RedrivePolicy: {
        maxReceiveCount: model.config.messaging.maxReceiveCount,
        deadLetterTargetArn: Match.anyValue(),
      },
    });
    // workers: timeout 5 min × 6
    template.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: 1800,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  test("the payload bucket: encrypted, private, TLS only, expiring after the longest run plus retention", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Prefix: PAYLOAD_PREFIX,
            ExpirationInDays: Math.ceil(MAX_DURATION_MS / 86_400_000) + model.config.retentionDays,
            Status: "Enabled",
          }),
        ],
      },
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  test("functions: nodejs24.x on arm64, memory and timeout from deployments, env from the manifest", () => {
    const engine = fnEnv(template, /transition queue/);
    assert.equal(engine.Runtime, "nodejs24.x");
    assert.deepEqual(engine.Architectures, ["arm64"]);
    assert.equal(engine.MemorySize, model.config.deployments.engine.memoryMb);
    assert.equal(engine.Timeout, model.config.deployments.engine.timeoutSeconds);
    for (const name of [
      ENV.APP,
      ENV.APP_DIR,
      ENV.TABLE,
      ENV.TRANSITION_QUEUE_URL,
      ENV.PAYLOAD_BUCKET,
      ENV.WORKER_QUEUE_URLS,
    ]) {
      assert.ok(name in engine.Environment.Variables, `engine lacks ${name}`);
    }
    assert.equal(engine.Environment.Variables[ENV.APP], "order-processing");
    assert.equal(engine.Environment.Variables[ENV.APP_DIR], "/var/task/app");
    const api = fnEnv(template, /HTTP API/);
    assert.equal(api.MemorySize, 512);
    assert.equal(api.Timeout, 30);
    const worker = fnEnv(template, /worker pool us-east/);
    assert.equal(worker.MemorySize, 1024);
    assert.equal(worker.Timeout, 300);
    assert.ok(!(ENV.CACHE_ENDPOINT in engine.Environment.Variables));
    template.resourceCountIs("AWS::EC2::VPC", 0);
  });

  test("event source mappings: batch size, ReportBatchItemFailures, maximum concurrency from autoscaling", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
    // engine, two workers, three DLQs to the dead-letter function
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 6);
  });

  test("least privilege: item actions on the tables and their indexes, objects under payloads/ only", () => {
    const policies = Object.values(template.findResources("AWS::IAM::Policy"));
    assert.ok(policies.length >= 5);
    const text = JSON.stringify(policies);
    assert.ok(
      !text.includes('"dynamodb:*"') &&
        !text.includes('"s3:*"') &&
        !text.includes('"s3:DeleteObject'),
    );
    assert.ok(!text.includes("dynamodb:Scan") && !text.includes("dynamodb:DeleteTable"));
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
            Resource: Match.arrayWith([
              Match.objectLike({
                "Fn::Join": Match.arrayWith([
                  Match.arrayWith([`/index/${TABLE.indexes.byApp.name}`]),
                ]),
              }),
            ]),
          }),
          Match.objectLike({
            Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            Resource: Match.objectLike({
              "Fn::Join": Match.arrayWith([Match.arrayWith([`/${PAYLOAD_PREFIX}*`])]),
            }),
          }),
        ]),
      },
    });
  });

  test("the reconciler: nodejs24.x on arm64, the shared environment without the cache, no reserved concurrency by default", () => {
    const { props } = fnResource(template, RECONCILER);
    assert.equal(props.Runtime, "nodejs24.x");
    assert.deepEqual(props.Architectures, ["arm64"]);
    assert.equal(props.MemorySize, RECONCILER_MEMORY_MB);
    // Never longer than the 5-minute period: a run ends before the next tick.
    assert.equal(props.Timeout, RECONCILER_MAX_TIMEOUT_SECONDS);
    assert.equal(props.ReservedConcurrentExecutions, undefined);
    const engine = fnEnv(template, /transition queue/).Environment.Variables;
    assert.deepEqual(props.Environment.Variables, engine);
    // A failed run fails the invocation: the error-rate alarm covers the reconciler too.
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: Match.stringLikeRegexp("of reconciler invocations fail"),
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: fnResource(template, RECONCILER).id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
  });

  test("the reconciler's schedule: an EventBridge rule at rate(5 minutes) targeting it", () => {
    const { id } = fnResource(template, RECONCILER);
    template.resourceCountIs("AWS::Events::Rule", 1);
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      State: "ENABLED",
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [id, "Arn"] },
          RetryPolicy: { MaximumEventAgeInSeconds: 300 },
        }),
      ],
    });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      Action: "lambda:InvokeFunction",
      FunctionName: { "Fn::GetAtt": [id, "Arn"] },
      Principal: "events.amazonaws.com",
      SourceArn: { "Fn::GetAtt": [Match.stringLikeRegexp("ReconcilerSchedule"), "Arn"] },
    });
  });

  test("the reconciler's IAM: read/write items of the table and its by-app index, send to every queue, payloads only", () => {
    const { id } = fnResource(template, RECONCILER);
    const statements = statementsOf(template, id);
    const [tableId] = Object.keys(template.findResources("AWS::DynamoDB::Table"));
    const tableArn = JSON.stringify({ "Fn::GetAtt": [tableId, "Arn"] });
    const dynamodb = statements.filter((st) => st.actions.some((a) => a.startsWith("dynamodb:")));
    assert.equal(dynamodb.length, 1);
    assert.deepEqual(
      dynamodb[0]?.actions,
      RECONCILER_DYNAMODB_ACTIONS.map((a) => `dynamodb:${a}`),
    );
    assert.equal(
      dynamodb[0]?.resource,
      JSON.stringify([
        { "Fn::GetAtt": [tableId, "Arn"] },
        { "Fn::Join": ["", [JSON.parse(tableArn), `/index/${TABLE.indexes.byApp.name}`]] },
      ]),
    );
    const s3 = statements.filter((st) => st.actions.some((a) => a.startsWith("s3:")));
    assert.deepEqual(
      s3.map((st) => st.actions),
      [["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]],
    );
    assert.match(s3[0]?.resource ?? "", new RegExp(`/${PAYLOAD_PREFIX}\\*`));
    // transitions + the two worker queues, each by its own ARN; never a dead-letter queue.
    const sqs = statements.filter((st) => st.actions.some((a) => a.startsWith("sqs:")));
    assert.equal(sqs.length, 3);
    const queueIds = Object.keys(template.findResources("AWS::SQS::Queue"));
    for (const st of sqs) {
      assert.ok(st.actions.includes("sqs:SendMessage"));
      assert.ok(!st.actions.some((a) => a.includes("Receive") || a.includes("Delete")));
      const target = JSON.parse(st.resource) as { "Fn::GetAtt": [string, string] };
      assert.equal(target["Fn::GetAtt"][1], "Arn");
      assert.ok(queueIds.includes(target["Fn::GetAtt"][0]));
      assert.ok(!/dlq/i.test(target["Fn::GetAtt"][0]), target["Fn::GetAtt"][0]);
    }
    const all = statements.flatMap((st) => st.actions);
    assert.ok(!all.some((a) => a.endsWith("*") || a === "dynamodb:Scan"));
  });

  test("HTTP API: /v1 proxy and the app's triggers to the api function, throttled, access-logged", () => {
    // The example app has real auth (IAM): no route of it is open.
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "ANY /v1/{proxy+}",
      AuthorizationType: "AWS_IAM",
    });
    for (const trigger of model.config.triggers) {
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: `${trigger.method} ${trigger.path}`,
      });
    }
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp("requestId"),
      },
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", {
      IntegrationType: "AWS_PROXY",
    });
  });

  test("alarms: queue depth > 100, p99 > 1 s, error rate > 0.5 %, DLQ not empty", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Threshold: ALARM_THRESHOLDS.queueDepth,
      ComparisonOperator: "GreaterThanThreshold",
    });
    // p99 of what users wait for: workflow duration and the API's latency (test/infra/alarms.test.ts).
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "WorkflowDuration",
      ExtendedStatistic: "p99",
      Threshold: 1000,
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: 0.5,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: "100 * errors / MAX([invocations, 1])" }),
      ]),
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Threshold: 0,
      AlarmDescription: Match.stringLikeRegexp("dead-letter queue of transitions"),
    });
  });

  test("the dashboard shows workflows, durations, transitions, queues, DLQs, cache and Lambda", () => {
    const [dashboard] = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
    const body = JSON.stringify(dashboard?.Properties);
    for (const title of [
      "Workflows started / succeeded / failed",
      "Workflow duration p50 / p95 / p99",
      "Activity duration p50 / p95 / p99",
      "Transition latency",
      "Queue depth and oldest message age",
      "Dead-letter queue depth",
      "Activity cache hit rate",
      "Lambda errors",
      "Lambda throttles",
    ]) {
      assert.ok(body.includes(title), `the dashboard lacks "${title}"`);
    }
    assert.ok(
      body.includes('MetricName=\\"WorkflowOutcome\\"') || body.includes("WorkflowOutcome"),
    );
  });
});

describe("the knob mapping, with every optional setting turned", () => {
  test("cdk-nag finds nothing unacknowledged in the VPC, cache and JWT variant either", () => {
    assert.deepEqual(tuned.nag, []);
  });

  test("silo: one table per tenant, the map in the functions' environment", () => {
    tuned.template.resourceCountIs("AWS::DynamoDB::Table", 2);
    const engine = fnEnv(tuned.template, /transition queue/);
    assert.ok(ENV.TENANT_TABLES in engine.Environment.Variables);
  });

  test("jwt: a JWT authorizer with the issuer and audience on every route", () => {
    tuned.template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: "https://issuer.example.com/", Audience: ["cascade"] },
    });
    const auth = routeAuth(tuned.template);
    // The API, the console's page and files, and each trigger: all behind the authorizer.
    assert.ok("GET /" in auth && "GET /console/{proxy+}" in auth);
    assert.equal(Object.keys(auth).length, 3 + model.config.triggers.length);
    for (const [route, type] of Object.entries(auth)) assert.equal(type, "JWT", route);
  });

  test("iam: every route needs SigV4 (AWS_IAM), no authorizer resource, cdk-nag clean", () => {
    assert.deepEqual(iamOnly.nag, []);
    const auth = routeAuth(iamOnly.template);
    assert.ok("ANY /v1/{proxy+}" in auth);
    assert.ok("GET /" in auth && "GET /console/{proxy+}" in auth);
    assert.equal(Object.keys(auth).length, 3 + model.config.triggers.length);
    for (const [route, type] of Object.entries(auth)) assert.equal(type, "AWS_IAM", route);
    iamOnly.template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0);
  });

  test("cache: Valkey Serverless in a VPC, the functions inside it, its endpoint in their env", () => {
    tuned.template.hasResourceProperties("AWS::ElastiCache::ServerlessCache", {
      Engine: "valkey",
      // cascade.yaml's cache.max_memory (the seed's 4gb).
      CacheUsageLimits: { DataStorage: { Maximum: 4, Unit: "GB" } },
    });
    template.resourceCountIs("AWS::ElastiCache::ServerlessCache", 0);
    tuned.template.resourceCountIs("AWS::EC2::VPC", 1);
    tuned.template.hasResourceProperties("AWS::Lambda::Function", {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
    assert.ok(
      ENV.CACHE_ENDPOINT in fnEnv(tuned.template, /transition queue/).Environment.Variables,
    );
  });

  test("autoscaling min → provisioned concurrency on an alias; max → maximum concurrency (at least 2)", () => {
    tuned.template.hasResourceProperties("AWS::Lambda::Alias", {
      Name: "live",
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 3 },
    });
    tuned.template.hasResourceProperties("AWS::Lambda::Alias", {
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
    const engineMapping = Object.values(
      tuned.template.findResources("AWS::Lambda::EventSourceMapping"),
    ).find((r) => JSON.stringify(r.Properties?.FunctionName).includes("EngineAliaslive"));
    assert.deepEqual(engineMapping?.Properties?.ScalingConfig, { MaximumConcurrency: 2 });
    tuned.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 40, ThrottlingBurstLimit: 80 },
    });
  });

  test("reconciler: every → the rate and a timeout within it; reserved_concurrency 1; outside the VPC; silo: every table", () => {
    tuned.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(2 minutes)",
    });
    const { id, props } = fnResource(tuned.template, RECONCILER);
    assert.equal(props.Timeout, 120);
    assert.equal(props.ReservedConcurrentExecutions, 1);
    assert.equal(props.VpcConfig, undefined);
    assert.ok(!(ENV.CACHE_ENDPOINT in props.Environment.Variables));
    assert.ok(ENV.TENANT_TABLES in props.Environment.Variables);
    assert.deepEqual(props.Architectures, ["x86_64"]);
    const tables = Object.keys(tuned.template.findResources("AWS::DynamoDB::Table"));
    const dynamodb = statementsOf(tuned.template, id).find((st) =>
      st.actions.includes("dynamodb:Query"),
    );
    for (const table of tables) assert.ok(dynamodb?.resource.includes(`"${table}"`), table);
    assert.ok(!dynamodb?.resource.includes(TABLE.indexes.byWorkflow.name));
  });

  test("messaging → batch size, batching window, max receive count, visibility; architecture; retention", () => {
    tuned.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
    });
    tuned.template.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: 900,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }),
    });
    assert.deepEqual(fnEnv(tuned.template, /transition queue/).Architectures, ["x86_64"]);
    assert.equal(
      fnEnv(tuned.template, /transition queue/).Environment.Variables[ENV.RETENTION_DAYS],
      "7",
    );
  });
});

describe("no public API by accident (S1)", () => {
  test("auth none without `public: true` does not synthesise; the message says what to set", () => {
    const open = withConfig(model, (c) => ({
      auth: { type: "none", tenantClaim: c.auth.tenantClaim },
    }));
    assert.throws(() => synthesise(open), /anyone can call[\s\S]*public: true/);
  });

  test("the refusal comes before anything is staged or bundled, with a stable code", () => {
    // A folder with no lockfile and no app: staging or bundling would fail first.
    const open = withConfig(model, (c) => ({
      dir: mkdtempSync(join(tmpdir(), "cascade-open-")),
      auth: { type: "none", tenantClaim: c.auth.tenantClaim },
    }));
    const app = new App();
    assert.throws(
      () => new CascadeStack(app, "Open", { app: open }),
      (error: Error & { code?: string }) =>
        error.code === "INFRA_OPEN_API" && /anyone can call/.test(error.message),
    );
  });

  test("nor with a JWT authorizer that verifies nothing, nor public with several tenants", () => {
    const jwt = withConfig(model, (c) => ({
      auth: { type: "jwt", tenantClaim: c.auth.tenantClaim },
    }));
    assert.throws(() => synthesise(jwt), /jwt needs issuer and audience/);
    const crowd = withConfig(model, (c) => ({
      tenants: { isolation: "pooled", names: ["default", "acme"] },
      auth: { type: "none", public: true, tenantClaim: c.auth.tenantClaim },
    }));
    assert.throws(() => synthesise(crowd), /exactly one tenant; this app lists 2/);
  });

  test("`auth: { type: none, public: true }` synthesises an open single-tenant API, cdk-nag clean", () => {
    const demo = synthesise(
      withConfig(model, (c) => ({
        tenants: { isolation: "pooled", names: ["default"] },
        auth: { type: "none", public: true, tenantClaim: c.auth.tenantClaim },
      })),
    );
    assert.deepEqual(demo.nag, []);
    demo.template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
      RouteKey: "ANY /v1/{proxy+}",
      AuthorizationType: "NONE",
    });
  });
});
