/** The queue and payload contracts on SQS and S3 (fauxqs). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { S3PayloadStore } from "../../lib/adapters/aws/s3-payloads.ts";
import {
  chunkForSqs,
  SqsMessageQueue,
  SqsQueueConsumer,
} from "../../lib/adapters/aws/sqs-queue.ts";
import type { OutMessage } from "../../lib/core/ports.ts";
import { SQS_MESSAGE_LIMIT_BYTES } from "../../lib/manifest/index.ts";
import { useEmulators } from "../support/emulators.ts";
import { payloadContract, queueContract } from "./queue-payload.contract.ts";

const env = useEmulators("queue-contract");
let n = 0;

for (const lean of [false, true]) {
  queueContract(`SqsMessageQueue${lean ? " (lean JSON client)" : ""}`, async () => {
    const created = await env.clients.sqs.send(
      new CreateQueueCommand({ QueueName: `contract-${++n}-${Date.now()}` }),
    );
    const url = created.QueueUrl ?? "";
    const client = lean ? env.clients.lean.sqs : env.clients.sqs;
    return {
      queue: new SqsMessageQueue(client, new Map([["transitions", url]])),
      consumer: new SqsQueueConsumer(client, url),
      now: () => Date.now(),
      advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  });
}
payloadContract(
  "S3PayloadStore",
  async () => new S3PayloadStore(env.clients.s3, env.provisioned.bucket),
);

test("SendMessageBatch requests hold at most 10 entries and 256 KiB of bodies", () => {
  const message = (n: number, bytes: number): OutMessage => ({
    mid: `m/${n}`,
    queue: "transitions",
    body: {
      kind: "cancel-join",
      header: {
        tenant: "t",
        executionId: "x".repeat(bytes),
        app: "a",
        workflow: "W",
        definitionHash: "h",
        startedAt: 0,
        input: { inline: null },
      },
      joinId: "j",
    },
  });
  const small = chunkForSqs(Array.from({ length: 12 }, (_, n) => message(n, 10)));
  assert.deepEqual(
    small.map((c) => c.length),
    [10, 2],
  );
  const large = chunkForSqs(Array.from({ length: 3 }, (_, n) => message(n, 100_000)));
  assert.deepEqual(
    large.map((c) => c.length),
    [2, 1],
  );
  for (const chunk of [...small, ...large]) {
    const bytes = chunk.reduce((sum, { body }) => sum + Buffer.byteLength(body), 0);
    assert.ok(bytes <= SQS_MESSAGE_LIMIT_BYTES);
    for (const { message: m, body } of chunk) assert.equal(body, JSON.stringify(m));
  }
});
