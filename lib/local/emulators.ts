/**
 * The embedded AWS of the local stack: dynalite (DynamoDB) and fauxqs (SQS and
 * S3) in this process, with the table, queues and bucket of `lib/manifest`
 * created idempotently. Data lives under `dataDir` (default `.cascade/`) unless
 * `ephemeral`.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import {
  DEAD_LETTER_QUEUE,
  QUEUE_DEFAULTS,
  QUEUES,
  TABLE,
  TRANSITIONS_QUEUE,
  workerDeadLetterQueue,
  workerQueue,
} from "../manifest/index.ts";

const require = createRequire(import.meta.url);

/** The sub-folders of a data folder where dynalite and fauxqs keep their data. */
export const EMULATOR_DATA_DIRS = { dynamodb: "dynamodb", fauxqs: "fauxqs" } as const;

export interface EmulatorOptions {
  /** Where data persists; ignored when ephemeral. */
  readonly dataDir?: string;
  readonly ephemeral?: boolean;
  /** 0 (default): any free port. */
  readonly dynamodbPort?: number;
  readonly fauxqsPort?: number;
}

export interface Emulators {
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly s3: string };
  close(): Promise<void>;
}

/** Starts both emulators. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const persistent = !options.ephemeral;
  const dataDir = options.dataDir ?? ".cascade";
  if (persistent) mkdirSync(join(dataDir, EMULATOR_DATA_DIRS.dynamodb), { recursive: true });
  const dynalite = require("dynalite") as (
    options: Record<string, unknown>,
  ) => import("node:http").Server;
  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(persistent ? { path: join(dataDir, EMULATOR_DATA_DIRS.dynamodb) } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(options.dynamodbPort ?? 0, "127.0.0.1", () => resolve());
  });
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  if (persistent) mkdirSync(join(dataDir, EMULATOR_DATA_DIRS.fauxqs), { recursive: true });
  const fauxqs = await startFauxqs({
    port: options.fauxqsPort ?? 0,
    logger: false,
    ...(persistent ? { dataDir: join(dataDir, EMULATOR_DATA_DIRS.fauxqs) } : {}),
  });
  return {
    endpoints: {
      dynamodb: `http://127.0.0.1:${dynamoPort}`,
      sqs: fauxqs.address,
      s3: fauxqs.address,
    },
    async close() {
      await fauxqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

/** Names of an app's resources on the emulators (and their defaults on AWS). */
export function resourceNames(app: string) {
  return {
    table: `${app}-cascade`,
    bucket: `${app}-cascade-payloads`.toLowerCase(),
    transitions: `${app}-${QUEUES.transitions.suffix}`,
    deadLetter: `${app}-${QUEUES.deadLetter.suffix}`,
    worker: (pool: string) => `${app}-${QUEUES.workerPrefix}${pool}`,
    workerDeadLetter: (pool: string) => `${app}-${QUEUES.workerPrefix}${pool}-dlq`,
  };
}

export interface Provisioned {
  readonly table: string;
  readonly bucket: string;
  /** Queue name (`transitions`, `worker:<pool>`, `dlq`, `dlq:<pool>`: lib/manifest/queues.ts) → URL. */
  readonly queues: ReadonlyMap<string, string>;
}

/** Creates the table, bucket and queues of `lib/manifest` if they do not exist. */
export async function provision(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient; s3: S3Client },
  app: string,
  options: {
    workerRegions?: readonly string[];
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
  } = {},
): Promise<Provisioned> {
  const names = resourceNames(app);
  try {
    await clients.dynamodb.send(
      new CreateTableCommand({
        TableName: names.table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE.sortKey, AttributeType: "S" },
          { AttributeName: TABLE.indexes.byWorkflow.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE.indexes.byWorkflow.sortKey, AttributeType: "S" },
          { AttributeName: TABLE.indexes.byApp.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE.indexes.byApp.sortKey, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: Object.values(TABLE.indexes).map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: "HASH" },
            { AttributeName: index.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
  } catch (error) {
    if (
      !(error instanceof ResourceInUseException) &&
      (error as Error).name !== "ResourceInUseException"
    )
      throw error;
  }
  await clients.s3.send(new CreateBucketCommand({ Bucket: names.bucket })).catch((error: Error) => {
    if (!/BucketAlready(OwnedByYou|Exists)/.test(error.name)) throw error;
  });

  const visibility = String(
    options.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds,
  );
  const maxReceiveCount = String(options.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount);
  const queues = new Map<string, string>();
  const create = async (name: string, deadLetterUrl?: string): Promise<string> => {
    let redrive: Record<string, string> = {};
    if (deadLetterUrl) {
      const attributes = await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ["QueueArn"] }),
      );
      const arn = attributes.Attributes?.QueueArn;
      if (arn)
        redrive = { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount }) };
    }
    const attributes = {
      VisibilityTimeout: visibility,
      MessageRetentionPeriod: String(QUEUE_DEFAULTS.retentionSeconds),
      ...redrive,
    };
    try {
      const result = await clients.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      if (!result.QueueUrl) throw new Error(`could not create queue ${name}`);
      return result.QueueUrl;
    } catch (error) {
      // The queue exists from an earlier run with other settings (cascade.yaml changed): update it.
      if (!/QueueNameExists|QueueAlreadyExists/.test((error as Error).name)) throw error;
      const existing = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (!existing.QueueUrl) throw error;
      await clients.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: existing.QueueUrl, Attributes: attributes }),
      );
      return existing.QueueUrl;
    }
  };
  const dlq = await create(names.deadLetter);
  queues.set(DEAD_LETTER_QUEUE, dlq);
  queues.set(TRANSITIONS_QUEUE, await create(names.transitions, dlq));
  for (const pool of options.workerRegions ?? []) {
    const workerDlq = await create(names.workerDeadLetter(pool));
    queues.set(workerDeadLetterQueue(pool), workerDlq);
    queues.set(workerQueue(pool), await create(names.worker(pool), workerDlq));
  }
  return { table: names.table, bucket: names.bucket, queues };
}
