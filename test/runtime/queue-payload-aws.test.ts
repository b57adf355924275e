/** The queue and payload contracts on SQS and S3 (fauxqs). */
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import { S3PayloadStore } from "../../lib/adapters/aws/s3-payloads.ts";
import { SqsMessageQueue, SqsQueueConsumer } from "../../lib/adapters/aws/sqs-queue.ts";
import { useEmulators } from "../support/emulators.ts";
import { payloadContract, queueContract } from "./queue-payload.contract.ts";

const env = useEmulators("queue-contract");
let n = 0;

queueContract("SqsMessageQueue", async () => {
  const created = await env.clients.sqs.send(
    new CreateQueueCommand({ QueueName: `contract-${++n}-${Date.now()}` }),
  );
  const url = created.QueueUrl ?? "";
  return {
    queue: new SqsMessageQueue(env.clients.sqs, new Map([["transitions", url]])),
    consumer: new SqsQueueConsumer(env.clients.sqs, url),
    now: () => Date.now(),
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
});
payloadContract(
  "S3PayloadStore",
  async () => new S3PayloadStore(env.clients.s3, env.provisioned.bucket),
);
