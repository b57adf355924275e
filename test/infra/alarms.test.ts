/**
 * Alarms that fire: error rates from failed executions, failed activity attempts and
 * failed queue records, p99 of workflow duration and of the API, every alarm publishing
 * to a topic, cascade.yaml's alerts (and the seed's scaling alerts as step policies on
 * provisioned concurrency). Targeted assertions on synthesised templates, no snapshots.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Topic } from "aws-cdk-lib/aws-sns";
import { parseAppConfig } from "../../lib/app/config.ts";
import { CascadeStack } from "../../lib/infra/cascade-stack.ts";
import type { AppModel } from "../../lib/infra/model.ts";
import { repoPath } from "../helpers.ts";
import { readExample, synthesise, withConfig } from "./synth-support.ts";

let model: AppModel;
let template: Template;
let nag: string[];
let scaled: { template: Template; nag: string[] };

before(async () => {
  model = await readExample();
  ({ template, nag } = synthesise(model));
  const seed = parseAppConfig(
    "cascade.yaml",
    readFileSync(repoPath("test", "fixtures", "seed", "cascade.yaml"), "utf8"),
    repoPath("test", "fixtures", "seed"),
  ).config;
  assert.ok(seed);
  scaled = synthesise(
    withConfig(model, () => ({ autoscaling: seed.autoscaling, operations: seed.operations })),
  );
});

const alarms = (t: Template) => Object.entries(t.findResources("AWS::CloudWatch::Alarm"));
const topicRef = (t: Template) => {
  const [id] = Object.keys(t.findResources("AWS::SNS::Topic"));
  assert.ok(id, "an alarm topic");
  return { Ref: id };
};

test("cdk-nag stays clean with the topic, the metrics grant and the scaling policies", () => {
  assert.deepEqual(nag, []);
  assert.deepEqual(scaled.nag, []);
});

test("every alarm publishes to the alarm topic, in ALARM and back to OK", () => {
  template.hasResourceProperties("AWS::SNS::Topic", {
    DisplayName: "Cascade order-processing alarms",
  });
  const ref = topicRef(template);
  const all = alarms(template);
  assert.ok(all.length >= 15, `${all.length} alarms`);
  for (const [id, alarm] of all) {
    assert.deepEqual(alarm.Properties.AlarmActions, [ref], `${id} alarm actions`);
    assert.deepEqual(alarm.Properties.OKActions, [ref], `${id} OK actions`);
  }
  template.hasOutput("AlarmTopicArn", { Value: ref });
});

test("error rate > 0.5 % of failed executions, failed activity attempts and failed records", () => {
  const expression = (
    text: string,
    metrics: Record<string, [string, string, Record<string, string>]>,
  ) =>
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: 0.5,
      ComparisonOperator: "GreaterThanThreshold",
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: text }),
        ...Object.entries(metrics).map(([id, [name, stat, dims]]) =>
          Match.objectLike({
            Id: id,
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: "Cascade",
                MetricName: name,
                Dimensions: Object.entries({ app: "order-processing", ...dims }).map(
                  ([Name, Value]) => ({
                    Name,
                    Value,
                  }),
                ),
              },
              Stat: stat,
            }),
          }),
        ),
      ]),
    });
  expression("100 * failed / MAX([failed + succeeded + cancelled, 1])", {
    failed: ["WorkflowOutcome", "Sum", { outcome: "failed" }],
    succeeded: ["WorkflowOutcome", "Sum", { outcome: "succeeded" }],
    cancelled: ["WorkflowOutcome", "Sum", { outcome: "cancelled" }],
  });
  expression("100 * errors / MAX([attempts, 1])", {
    errors: ["ActivityErrors", "Sum", {}],
    attempts: ["ActivityErrors", "SampleCount", {}],
  });
  // A batch whose every record fails returns normally; FailedRecords shows it.
  expression("100 * failedRecords / MAX([records, 1])", {
    failedRecords: ["FailedRecords", "Sum", {}],
    records: ["BatchRecords", "Sum", {}],
  });
});

test("p99 > 1 s on workflow duration and on the API's own latency, not on batch duration", () => {
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "Cascade",
    MetricName: "WorkflowDuration",
    Dimensions: [{ Name: "app", Value: "order-processing" }],
    ExtendedStatistic: "p99",
    Threshold: 1000,
  });
  // The API's handling less any wait for an execution's end (?wait=, sync triggers): a
  // start that waits 28 s for its workflow is the workflow's time, not a slow API.
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    Namespace: "Cascade",
    MetricName: "ApiLatency",
    Dimensions: [{ Name: "app", Value: "order-processing" }],
    ExtendedStatistic: "p99",
    Threshold: 1000,
  });
  for (const [id, alarm] of alarms(template)) {
    assert.notEqual(
      alarm.Properties.MetricName,
      "Duration",
      `${id} watches a Lambda's batch duration`,
    );
    assert.ok(
      !(
        alarm.Properties.Namespace === "AWS/ApiGateway" && alarm.Properties.MetricName === "Latency"
      ),
      `${id} watches API Gateway's Latency, which includes synchronous waits`,
    );
  }
});

test("the example's alerts become alarms with their condition and duration", () => {
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    AlarmDescription: Match.stringLikeRegexp(
      "alert HighQueueDepth: queue_depth of transitions > 100 for 5m",
    ),
    MetricName: "ApproximateNumberOfMessagesVisible",
    Threshold: 100,
    EvaluationPeriods: 5,
    Period: 60,
    ComparisonOperator: "GreaterThanThreshold",
  });
  template.hasResourceProperties("AWS::CloudWatch::Alarm", {
    AlarmDescription: Match.stringLikeRegexp("alert SlowWorkflows"),
    MetricName: "WorkflowDuration",
    ExtendedStatistic: "p99",
    Threshold: 5000,
    EvaluationPeriods: 10,
  });
  // Without provisioned concurrency nothing scales: no policy, no scalable target.
  template.resourceCountIs("AWS::ApplicationAutoScaling::ScalingPolicy", 0);
});

test("the seed's scaling alerts: step policies on the workers' provisioned concurrency, driven by the alarms", () => {
  const t = scaled.template;
  t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
    ServiceNamespace: "lambda",
    ScalableDimension: "lambda:function:ProvisionedConcurrency",
    MinCapacity: 2,
    MaxCapacity: 20,
  });
  t.hasResourceProperties("AWS::Lambda::Alias", {
    Name: "live",
    ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
  });
  const policies = t.findResources("AWS::ApplicationAutoScaling::ScalingPolicy");
  const steps = Object.entries(policies).filter(
    ([, p]) => p.Properties.PolicyType === "StepScaling",
  );
  const up = steps.filter(([id]) => id.includes("HighQueueDepth"));
  const down = steps.filter(([id]) => id.includes("LowQueueDepth"));
  assert.ok(up.length >= 1 && up.length === down.length, `${up.length} up, ${down.length} down`);
  for (const [, p] of up)
    assert.deepEqual(p.Properties.StepScalingPolicyConfiguration.StepAdjustments, [
      { MetricIntervalLowerBound: 0, ScalingAdjustment: 5 },
    ]);
  for (const [, p] of down)
    assert.deepEqual(p.Properties.StepScalingPolicyConfiguration.StepAdjustments, [
      { MetricIntervalUpperBound: 0, ScalingAdjustment: -2 },
    ]);
  // Each HighQueueDepth alarm (one per activity queue) triggers its step policy and notifies.
  const high = alarms(t).filter(([id]) => id.includes("AlertHighQueueDepth"));
  assert.equal(high.length, up.length);
  for (const [, alarm] of high) {
    assert.equal(alarm.Properties.Threshold, 100);
    assert.equal(alarm.Properties.EvaluationPeriods, 5);
    const actions = JSON.stringify(alarm.Properties.AlarmActions);
    assert.ok(
      up.some(([id]) => actions.includes(id)),
      actions,
    );
    assert.ok(actions.includes(topicRef(t).Ref));
  }
  // target_queue_depth: target tracking on queue depth.
  t.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
    PolicyType: "TargetTrackingScaling",
    TargetTrackingScalingPolicyConfiguration: Match.objectLike({
      TargetValue: 50,
      CustomizedMetricSpecification: Match.objectLike({
        MetricName: "ApproximateNumberOfMessagesVisible",
        Namespace: "AWS/SQS",
      }),
    }),
  });
  // activity_queue_depth is the workers' queue-depth alarm threshold.
  t.hasResourceProperties("AWS::CloudWatch::Alarm", {
    AlarmDescription: Match.stringLikeRegexp("more than 100 messages wait in activities-"),
  });
});

test("a topic passed as alarmTopic is used instead of a new one; the api may read CloudWatch", () => {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const shared = new Stack(app, "Shared");
  const topic = new Topic(shared, "Pager");
  const stack = new CascadeStack(app, "WithTopic", {
    app: model,
    skipAppStaging: true,
    alarmTopic: topic,
  });
  const t = Template.fromStack(stack);
  t.resourceCountIs("AWS::SNS::Topic", 0);
  const [, first] = alarms(t)[0] ?? [];
  assert.match(JSON.stringify(first?.Properties.AlarmActions), /PagerOutput|Fn::ImportValue/);
  t.hasResourceProperties("AWS::IAM::Policy", {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: "cloudwatch:GetMetricData", Effect: "Allow", Resource: "*" }),
      ]),
    },
  });
});

test("the functions that feed their own queues may loop (recursiveLoop: Allow)", () => {
  const fns = Object.values(template.findResources("AWS::Lambda::Function"));
  const looping = fns.filter((f) => f.Properties.RecursiveLoop === "Allow");
  // engine, dead-letter and one worker per region of the example (us-east, eu-west)
  assert.equal(
    looping.length,
    4,
    JSON.stringify(fns.map((f) => [f.Properties.Description, f.Properties.RecursiveLoop])),
  );
  for (const f of looping)
    assert.doesNotMatch(String(f.Properties.Description), /HTTP API|reconciler|re-sends/);
});
