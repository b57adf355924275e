import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { MAX_DURATION_MS } from "../core/cdl/index.ts";
import {
  PAYLOAD_PREFIX,
  QUEUE_DEFAULTS,
  QUEUES,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  TABLE,
} from "../manifest/index.ts";
import { CascadeInfraError, type CascadeQueue } from "./app-parts.ts";
import type { AppModel } from "./model.ts";

/** AWS advises a visibility timeout of at least six times the consuming function's timeout. */
export const VISIBILITY_PER_TIMEOUT = 6;
/** A dead-letter queue keeps messages as long as SQS allows (14 days), for a person to look at. */
export const DLQ_RETENTION_SECONDS = SQS_MAX_RETENTION_SECONDS;

/** Tenant → table (pooled: every tenant maps to the one table), and the first table. */
export function createTables(
  scope: Construct,
  config: AppModel["config"],
  removalPolicy: RemovalPolicy,
): { tables: Map<string, dynamodb.Table>; primary: dynamodb.Table } {
  const tables = new Map<string, dynamodb.Table>();
  const tableIds =
    config.tenants.isolation === "silo"
      ? config.tenants.names.map((tenant) => ({ tenant, id: `${TABLE.id}-${tenant}` }))
      : [{ tenant: undefined, id: TABLE.id }];
  for (const { tenant, id: tableId } of tableIds) {
    const table = new dynamodb.Table(scope, tableId, {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TABLE.ttlAttribute,
      removalPolicy,
    });
    for (const index of Object.values(TABLE.indexes)) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    if (tenant === undefined) for (const name of config.tenants.names) tables.set(name, table);
    else tables.set(tenant, table);
  }
  const primary = [...new Set(tables.values())][0];
  if (!primary) throw new CascadeInfraError("INFRA_NO_TENANT", "cascade.yaml lists no tenant");
  return { tables, primary };
}

/** The payload bucket: private, encrypted, its payloads expiring after the longest run plus the retention. */
export function createPayloadBucket(
  scope: Construct,
  config: AppModel["config"],
  removalPolicy: RemovalPolicy,
): s3.Bucket {
  // Payloads of a running execution are read until it ends: keep them for the longest an
  // execution may run plus the retention of ended ones (the runtime's TTL rule).
  const payloadDays = Math.ceil(MAX_DURATION_MS / 86_400_000) + config.retentionDays;
  const bucket = new s3.Bucket(scope, "Payloads", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      {
        id: "retention",
        prefix: PAYLOAD_PREFIX,
        expiration: Duration.days(payloadDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy,
    autoDeleteObjects: false,
  });
  Validations.of(bucket).acknowledge({
    id: "AwsSolutions-S1",
    reason:
      "Only the app's functions read and write payloads, through their IAM roles; turn on CloudTrail S3 data events to audit object access instead of a second logging bucket.",
  });
  return bucket;
}

/** The transition queue and one queue per worker pool, each with its dead-letter queue. */
export function createQueues(
  scope: Construct,
  config: AppModel["config"],
  workerPools: readonly string[],
): { transitions: CascadeQueue; workerQueues: Map<string, CascadeQueue> } {
  const visibility = (consumerTimeoutSeconds: number): Duration =>
    Duration.seconds(
      config.messaging.visibilityTimeoutSeconds ??
        Math.min(
          SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
          consumerTimeoutSeconds * VISIBILITY_PER_TIMEOUT,
        ),
    );
  const queuePair = (id: string, dlqId: string, consumerTimeoutSeconds: number): CascadeQueue => {
    const deadLetter = new sqs.Queue(scope, dlqId, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DLQ_RETENTION_SECONDS),
      visibilityTimeout: visibility(config.deployments.engine.timeoutSeconds),
    });
    const queue = new sqs.Queue(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.retentionSeconds),
      receiveMessageWaitTime: Duration.seconds(QUEUE_DEFAULTS.receiveWaitSeconds),
      visibilityTimeout: visibility(consumerTimeoutSeconds),
      deadLetterQueue: { queue: deadLetter, maxReceiveCount: config.messaging.maxReceiveCount },
    });
    return { queue, deadLetter };
  };
  const transitions = queuePair(
    QUEUES.transitions.id,
    QUEUES.deadLetter.id,
    config.deployments.engine.timeoutSeconds,
  );
  const workerQueues = new Map<string, CascadeQueue>();
  for (const pool of workerPools) {
    const id = `${QUEUES.workerPrefix}${pool}`;
    workerQueues.set(pool, queuePair(id, `${id}-dlq`, config.deployments.workers.timeoutSeconds));
  }
  return { transitions, workerQueues };
}
