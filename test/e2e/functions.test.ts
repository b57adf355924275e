/**
 * The Lambda entry points, invoked as Lambda would: their module builds the
 * runtime from the environment at import, and SQS events go through the
 * exported handlers against the emulators. Partial batch failures included; the
 * reconciler repairs an execution whose first message was lost.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import {
  createRuntimeFromEnv,
  RuntimeConfigError,
  readConfig,
} from "../../lib/adapters/aws/bootstrap.ts";
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { ENV } from "../../lib/manifest/index.ts";
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

/** Points the functions' environment at the emulators (their modules read it on import). */
async function useFunctionEnv(): Promise<void> {
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
}

/**
 * Feeds the transition queue to the engine function, deleting what it handled, until
 * `executionId` succeeds. Returns whether a record that is not a Cascade message (sent
 * in the first batch when `garbage`) was reported failed.
 */
async function driveToSuccess(executionId: string, garbage = false): Promise<boolean> {
  const { clients, provisioned } = env;
  const { handleTransitions } = await import("../../functions/engine.ts");
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
        ...(garbage && round === 0 ? [record("not json", "garbage")] : []),
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
    const view = await store.getExecution("default", executionId);
    if (view?.thread.status === "succeeded") return garbageReported;
  }
  assert.fail(`execution ${executionId} did not finish through the engine function`);
}

test("the engine function runs the seed workflow from SQS events and reports the records that failed", async () => {
  await useFunctionEnv();
  const starter = await createRuntimeFromEnv();
  await starter.startExecution(
    "OrderFulfillment",
    { customer_id: "c-9", cart_items: [{ id: "a", quantity: 1 }] },
    { id: "fn-1" },
  );
  assert.ok(
    await driveToSuccess("fn-1", true),
    "a record that is not a Cascade message is reported failed",
  );
});

test("the reconciler function re-sends what a start committed when its message was lost, for every tenant", async () => {
  await useFunctionEnv();
  const { clients, provisioned } = env;
  const queueUrl = provisioned.queues.get("transitions") ?? "";
  const starter = await createRuntimeFromEnv();
  await starter.startExecution(
    "OrderFulfillment",
    { customer_id: "c-10", cart_items: [{ id: "b", quantity: 2 }] },
    { id: "fn-2" },
  );
  // The start committed; its first message is lost.
  await clients.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  const left = await clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  assert.equal(left.Messages?.length ?? 0, 0, "the start's message is gone");
  const { reconcileApp } = await import("../../functions/reconciler.ts");
  // Idle and grace 0: the test cannot wait the 5 and 30 minutes of the scheduled runs.
  const run = await reconcileApp(undefined, { idleMs: 0, activityGraceMs: 0 });
  assert.deepEqual(run.tenants, ["default", "acme"]);
  assert.deepEqual(run.failed, []);
  assert.ok(run.examined >= 1);
  assert.deepEqual(
    run.repaired.map((r) => [r.tenant, r.executionId]),
    [["default", "fn-2"]],
  );
  assert.match(run.repaired[0]?.what ?? "", /re-sent the outbox/);
  await driveToSuccess("fn-2");
});

test("the reconciler function logs one JSON line, reconciles the other tenants when one fails, and throws", async () => {
  await useFunctionEnv();
  const { reconcileApp, ReconcilerError } = await import("../../functions/reconciler.ts");
  const lines: string[] = [];
  const asked: string[][] = [];
  const target = {
    app: "fn",
    tenants: ["acme", "broken", "globex"],
    log: (line: string) => lines.push(line),
    runtime: {
      reconcile: async (options: { tenants?: readonly string[] }) => {
        const tenants = [...(options.tenants ?? [])];
        asked.push(tenants);
        if (tenants[0] === "broken") throw new Error("the table is gone");
        return {
          examined: 2,
          repaired: [{ executionId: `${tenants[0]}-1`, what: "recorded the end" }],
          failed: [],
        };
      },
    },
  };
  await assert.rejects(reconcileApp(target), (error: unknown) => {
    assert.ok(error instanceof ReconcilerError);
    assert.match(error.message, /tenant 'broken' \(Error: the table is gone\)/);
    assert.equal((error.cause as Error).message, "the table is gone");
    assert.equal(error.run.examined, 4);
    return true;
  });
  assert.deepEqual(asked, [["acme"], ["broken"], ["globex"]]);
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
  assert.deepEqual(
    { ...line, durationMs: typeof line.durationMs },
    {
      level: "error",
      message: "reconciled",
      app: "fn",
      tenants: ["acme", "broken", "globex"],
      examined: 4,
      repairedCount: 2,
      repaired: [
        { tenant: "acme", executionId: "acme-1", what: "recorded the end" },
        { tenant: "globex", executionId: "globex-1", what: "recorded the end" },
      ],
      failed: [{ tenant: "broken", error: "Error: the table is gone" }],
      durationMs: "number",
    },
  );
});
