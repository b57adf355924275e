/**
 * `cascade metrics` on AWS: the CloudWatch reader through the real SDK client, pointed
 * at a local HTTP server that records each GetMetricData request and answers with a
 * response in GetMetricData's wire shape (AWS JSON 1.0; timestamps in epoch seconds).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchMetricsReader } from "../../lib/adapters/aws/cloudwatch-metrics.ts";
import { activityRecord } from "../../lib/cli/commands/metrics.ts";
import { repoPath } from "../helpers.ts";

const fixture = (name: string): string =>
  readFileSync(repoPath("test", "fixtures", "cloudwatch", name), "utf8");

interface Seen {
  headers: IncomingHttpHeaders;
  body: {
    MetricDataQueries: {
      Id: string;
      ReturnData: boolean;
      MetricStat: {
        Metric: {
          Namespace: string;
          MetricName: string;
          Dimensions: { Name: string; Value: string }[];
        };
        Period: number;
        Stat: string;
      };
    }[];
    StartTime: number;
    EndTime: number;
    ScanBy: string;
    NextToken?: string;
  };
}

const seen: Seen[] = [];
let answers: string[] = [];
const server = createServer((req, res) => {
  let text = "";
  req.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  req.on("end", () => {
    seen.push({ headers: req.headers, body: JSON.parse(text) as Seen["body"] });
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    res.end(answers.shift() ?? '{"MetricDataResults":[],"Messages":[]}');
  });
});
let client: CloudWatchClient;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  client = new CloudWatchClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
});
after(() => {
  client.destroy();
  server.close();
});

const DAY_MS = 24 * 3600 * 1000;
const TO = Date.UTC(2026, 11, 1, 12, 0, 0);

test("an activity over 24h: one GetMetricData of count, average, errors and the percentiles, printed as the seed prints it", async () => {
  seen.length = 0;
  answers = [fixture("get-metric-data-activity.json")];
  const reader = new CloudWatchMetricsReader(client);
  const figures = await reader.activity(
    { app: "shop", tenant: "default", from: TO - DAY_MS, to: TO, percentiles: [50, 95, 99] },
    "validate_order",
  );

  assert.equal(seen.length, 1);
  const request = seen[0];
  assert.ok(request);
  assert.equal(request.headers["x-amz-target"], "GraniteServiceVersion20100801.GetMetricData");
  assert.match(
    String(request.headers.authorization),
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/monitoring\/aws4_request/,
  );
  assert.equal(request.body.StartTime, (TO - DAY_MS) / 1000);
  assert.equal(request.body.EndTime, TO / 1000);
  assert.equal(request.body.ScanBy, "TimestampDescending");
  assert.deepEqual(
    request.body.MetricDataQueries.map((q) => [
      q.Id,
      q.MetricStat.Metric.MetricName,
      q.MetricStat.Stat,
      q.MetricStat.Period,
    ]),
    [
      ["q0", "ActivityDuration", "SampleCount", 86_400],
      ["q1", "ActivityDuration", "Average", 86_400],
      ["q2", "ActivityErrors", "Sum", 86_400],
      ["q3", "ActivityDuration", "p50", 86_400],
      ["q4", "ActivityDuration", "p95", 86_400],
      ["q5", "ActivityDuration", "p99", 86_400],
    ],
  );
  for (const q of request.body.MetricDataQueries) {
    assert.equal(q.MetricStat.Metric.Namespace, "Cascade");
    // The [app, activity] dimension set the EMF lines carry: the activity across workflows.
    assert.deepEqual(q.MetricStat.Metric.Dimensions, [
      { Name: "app", Value: "shop" },
      { Name: "activity", Value: "validate_order" },
    ]);
  }

  assert.deepEqual(figures, {
    name: "validate_order",
    executions: 15234,
    errors: 3,
    avgDurationMs: 12.3071,
    percentiles: { p50: 8.0194, p95: 45.1833, p99: 199.6401 },
  });
  assert.equal(
    JSON.stringify(activityRecord(figures)),
    '{"name":"validate_order","executions":15234,"avg_duration":"12ms","p50":"8ms","p95":"45ms","p99":"200ms","error_rate":"0.02%"}',
  );
});

test("a workflow over 2m: counts summed across data points, percentiles from the fullest one, NextToken followed", async () => {
  seen.length = 0;
  answers = [
    fixture("get-metric-data-workflow-page1.json"),
    fixture("get-metric-data-workflow-page2.json"),
  ];
  const reader = new CloudWatchMetricsReader(client);
  const [figures] = await reader.workflows(
    { app: "shop", tenant: "default", from: TO - 120_000, to: TO, percentiles: [50, 99] },
    ["OrderFulfillment"],
  );
  assert.equal(seen.length, 2);
  assert.equal(seen[1]?.body.NextToken, "page-2");
  const queries = seen[0]?.body.MetricDataQueries ?? [];
  assert.deepEqual(
    queries.map((q) => [
      q.MetricStat.Metric.MetricName,
      q.MetricStat.Stat,
      q.MetricStat.Metric.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(","),
    ]),
    [
      ["WorkflowStarted", "Sum", "app=shop,workflow=OrderFulfillment"],
      ["WorkflowOutcome", "Sum", "app=shop,workflow=OrderFulfillment,outcome=succeeded"],
      ["WorkflowOutcome", "Sum", "app=shop,workflow=OrderFulfillment,outcome=failed"],
      ["WorkflowOutcome", "Sum", "app=shop,workflow=OrderFulfillment,outcome=cancelled"],
      ["WorkflowDuration", "SampleCount", "app=shop,workflow=OrderFulfillment"],
      ["WorkflowDuration", "p50", "app=shop,workflow=OrderFulfillment"],
      ["WorkflowDuration", "p99", "app=shop,workflow=OrderFulfillment"],
      ["WorkflowDuration", "Average", "app=shop,workflow=OrderFulfillment"],
    ],
  );
  assert.ok(queries.every((q) => q.MetricStat.Period === 120));
  assert.deepEqual(figures, {
    name: "OrderFulfillment",
    started: 60,
    succeeded: 53,
    failed: 2,
    cancelled: 0,
    throughputPerSecond: 55 / 120,
    avgDurationMs: 402.25,
    percentiles: { p50: 310, p99: 1450.5 },
  });
});

test("the app's total reads the [app] and [app, outcome] roll-ups; no data is zeros and nulls", async () => {
  seen.length = 0;
  answers = [];
  const reader = new CloudWatchMetricsReader(client);
  const [figures] = await reader.workflows(
    { app: "shop", tenant: "default", from: TO - 60_000, to: TO, percentiles: [99] },
    [null],
  );
  const dims = (seen[0]?.body.MetricDataQueries ?? []).map((q) =>
    q.MetricStat.Metric.Dimensions.map((d) => d.Name).join(","),
  );
  assert.deepEqual(dims, ["app", "app,outcome", "app,outcome", "app,outcome", "app", "app", "app"]);
  assert.deepEqual(figures, {
    name: null,
    started: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    throughputPerSecond: 0,
    avgDurationMs: null,
    percentiles: { p99: null },
  });
});
