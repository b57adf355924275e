/** The queue and payload contracts on SQS and S3 (fauxqs). */
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { S3PayloadStore } from "../../lib/adapters/aws/s3-payloads.ts";
import { SqsMessageQueue, SqsQueueConsumer } from "../../lib/adapters/aws/sqs-queue.ts";
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
