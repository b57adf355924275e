/**
 * AWS SDK v3 clients, built once per process and reused: keep-alive connections,
 * no retries hidden behind our own (the runtime's redelivery is the retry), and
 * endpoints pointed at the emulators locally.
 */
import { Agent } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface ClientOptions {
  readonly region?: string;
  /** Local emulators: their endpoints, with dummy credentials. Absent on AWS. */
  readonly endpoints?: { readonly dynamodb: string; readonly sqs: string; readonly s3: string };
  /** Sockets per client. Default 64. */
  readonly maxSockets?: number;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  destroy(): void;
}

/** Builds the three clients. */
export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const local = options.endpoints;
  const base = {
    region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({
      ...(local
        ? { httpAgent: new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }) }
        : {}),
      connectionTimeout: 2_000,
      requestTimeout: 30_000,
    }),
    ...(local ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  };
  const dynamodb = new DynamoDBClient({ ...base, ...(local ? { endpoint: local.dynamodb } : {}) });
  const sqs = new SQSClient({ ...base, ...(local ? { endpoint: local.sqs } : {}) });
  const s3 = new S3Client({
    ...base,
    ...(local ? { endpoint: local.s3, forcePathStyle: true } : {}),
  });
  return {
    dynamodb,
    sqs,
    s3,
    destroy() {
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
}
