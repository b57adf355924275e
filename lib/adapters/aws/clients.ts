/**
 * AWS SDK v3 clients, built once per process and reused: keep-alive connections,
 * no retries hidden behind our own (the runtime's redelivery is the retry), and
 * endpoints pointed at the emulators locally.
 */
import { Agent } from "node:http";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { AwsJsonClient } from "./json-client.ts";

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
  /** The hot path's lean JSON clients (same credentials, region and endpoints); see json-client.ts. */
  readonly lean: { readonly dynamodb: AwsJsonClient; readonly sqs: AwsJsonClient };
  destroy(): void;
}

/** Builds the three clients. */
export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const local = options.endpoints;
  const base = {
    region: options.region ?? process.env.AWS_REGION ?? "us-east-1",
    maxAttempts: 3,
    // Checksums only where the service requires them: S3's flexible checksums cost CPU on
    // every request (measured in bench/), and TLS already protects the bytes in transit.
    requestChecksumCalculation: "WHEN_REQUIRED" as const,
    responseChecksumValidation: "WHEN_REQUIRED" as const,
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
  const maxSockets = options.maxSockets ?? 64;
  const lean = {
    dynamodb: new AwsJsonClient(dynamodb, {
      service: "dynamodb",
      targetPrefix: "DynamoDB_20120810",
      operations: new Map<abstract new (...args: never[]) => unknown, string>([
        [PutItemCommand, "PutItem"],
        [GetItemCommand, "GetItem"],
        [DeleteItemCommand, "DeleteItem"],
        [UpdateItemCommand, "UpdateItem"],
        [QueryCommand, "Query"],
        [BatchWriteItemCommand, "BatchWriteItem"],
        [BatchGetItemCommand, "BatchGetItem"],
      ]),
      ...(local ? { endpoint: local.dynamodb } : {}),
      maxSockets,
    }),
    sqs: new AwsJsonClient(sqs, {
      service: "sqs",
      targetPrefix: "AmazonSQS",
      operations: new Map<abstract new (...args: never[]) => unknown, string>([
        [SendMessageBatchCommand, "SendMessageBatch"],
        [ReceiveMessageCommand, "ReceiveMessage"],
        [DeleteMessageBatchCommand, "DeleteMessageBatch"],
        [ChangeMessageVisibilityBatchCommand, "ChangeMessageVisibilityBatch"],
        [ChangeMessageVisibilityCommand, "ChangeMessageVisibility"],
      ]),
      ...(local ? { endpoint: local.sqs } : {}),
      maxSockets,
    }),
  };
  return {
    dynamodb,
    sqs,
    s3,
    lean,
    destroy() {
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
      lean.dynamodb.destroy();
      lean.sqs.destroy();
    },
  };
}
