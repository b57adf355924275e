/**
 * The Lambda entry points, invoked as Lambda would: their module builds the
 * runtime from the environment at import, and SQS events go through the
 * exported handlers against the emulators. Partial batch failures included.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { ENV } from "../../lib/manifest/index.ts";
import {
  createRuntimeFromEnv,
  RuntimeConfigError,
  readConfig,
} from "../../lib/runtime/from-env.ts";
import { repoPath } from "../helpers.ts";
import { useEmulators } from "../support/emulators.ts";

const env = useEmulators("fn");

test("the environment is validated all at once", () => {
  assert.throws(
    () =>
      readConfig({
        [ENV.OFFLOAD_THRESHOLD_BYTES]: "lots",
        [ENV.WORKER_QUEUE_URLS]: "{",
        [ENV.SQS_ENDPOINT]: "http://x",
      }),
    (error: unknown) =>
      error instanceof RuntimeConfigError &&
      error.problems.length === 7 &&
      error.problems.includes("CASCADE_TABLE is not set") &&
      error.problems.some((p) =>
        p.startsWith("CASCADE_OFFLOAD_THRESHOLD_BYTES must be a positive integer"),
      ),
  );
});

function record(body: string, id: string, receiveCount = 1): SQSRecord {
  return {
    messageId: id,
    receiptHandle: id,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: "0",
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:fn-transitions",
    awsRegion: "us-east-1",
  };
}

test("the engine function runs the seed workflow from SQS events and reports the records that failed", async () => {
  const { clients, provisioned } = env;
  const endpoints = {
    dynamodb: await clients.dynamodb.config.endpoint?.(),
    sqs: await clients.sqs.config.endpoint?.(),
  };
  const url = (e: { protocol: string; hostname: string; port?: number } | undefined) =>
    `${e?.protocol}//${e?.hostname}:${e?.port}`;
  Object.assign(process.env, {
    [ENV.APP]: "fn",
    [ENV.APP_DIR]: repoPath("examples", "order-processing"),
    [ENV.TABLE]: provisioned.table,
    [ENV.PAYLOAD_BUCKET]: provisioned.bucket,
    [ENV.TRANSITION_QUEUE_URL]: provisioned.queues.get("transitions"),
    [ENV.DYNAMODB_ENDPOINT]: url(endpoints.dynamodb),
    [ENV.SQS_ENDPOINT]: url(endpoints.sqs),
    [ENV.S3_ENDPOINT]: url(endpoints.sqs),
  });
  const { handleTransitions } = await import("../../functions/engine.ts");
  const starter = await createRuntimeFromEnv();
  await starter.startExecution(
    "OrderFulfillment",
    { customer_id: "c-9", cart_items: [{ id: "a", quantity: 1 }] },
    { id: "fn-1" },
  );

  const queueUrl = provisioned.queues.get("transitions") ?? "";
  const store = new DynamoDbExecutionStore(clients.dynamodb, provisioned.table);
  let garbageReported = false;
  for (let round = 0; round < 40; round++) {
    const received = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    const messages = received.Messages ?? [];
    const event: SQSEvent = {
      Records: [
        ...messages.map((m) =>
          record(
            m.Body ?? "",
            m.ReceiptHandle ?? "",
            Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          ),
        ),
        ...(round === 0 ? [record("not json", "garbage")] : []),
      ],
    };
    if (event.Records.length === 0) {
      break;
    }
    const response = await handleTransitions(event);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    if (failed.has("garbage")) garbageReported = true;
    for (const m of messages) {
      if (!failed.has(m.ReceiptHandle ?? ""))
        await clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
        );
    }
    const view = await store.getExecution("default", "fn-1");
    if (view?.thread.status === "succeeded") {
      assert.ok(garbageReported, "a record that is not a Cascade message is reported failed");
      return;
    }
  }
  assert.fail("the execution did not finish through the engine function");
});
