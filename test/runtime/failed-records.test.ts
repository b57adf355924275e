/**
 * A batch whose records fail returns normally (partial batch failure), so Lambda's
 * Errors metric never counts it: the handler reports BatchRecords and FailedRecords as
 * an EMF line, which the error-rate alarm on failed records reads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { handleSqsEvent } from "../../lib/runtime/batch.ts";
import { memoryStack } from "../support/memory-stack.ts";

const record = (id: string, body: string): SQSRecord =>
  ({
    messageId: id,
    body,
    attributes: { ApproximateReceiveCount: "1" },
  }) as unknown as SQSRecord;

test("a batch where every record fails shows as FailedRecords = BatchRecords", async () => {
  const stack = memoryStack({ workflows: [], activities: {} });
  const event: SQSEvent = { Records: [record("a", "not json"), record("b", "{}")] };
  const response = await handleSqsEvent(stack.runtime, event, () => {});
  assert.deepEqual(response.batchItemFailures.map((f) => f.itemIdentifier).sort(), ["a", "b"]);
  const lines = stack.lines
    .filter((l) => l.includes('"FailedRecords"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  const line = lines[0] ?? {};
  assert.equal(line.BatchRecords, 2);
  assert.equal(line.FailedRecords, 2);
  const aws = line._aws as {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  assert.equal(aws.CloudWatchMetrics[0]?.Namespace, "Cascade");
  assert.deepEqual(aws.CloudWatchMetrics[0]?.Dimensions, [["app"]]);
  assert.deepEqual(
    aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name),
    ["BatchRecords", "FailedRecords"],
  );
});
