import { Stack, Validations } from "aws-cdk-lib";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";
import { PAYLOAD_PREFIX, TABLE } from "../manifest/index.ts";
import type { CascadeQueue } from "./app-parts.ts";

/** The DynamoDB actions the runtime's store uses (lib/adapters/aws/dynamodb-store.ts). */
export const DYNAMODB_ACTIONS = [
  "GetItem",
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
  "Query",
] as const;
/** The S3 actions of the payload store: Get, Put (multipart uploads included) and abort. */
export const S3_ACTIONS = ["GetObject", "PutObject", "AbortMultipartUpload"] as const;
/**
 * The DynamoDB actions of the reconciler (lib/runtime/reconcile.ts): it lists running
 * executions (Query on the by-app index), reads steps, summaries and definitions
 * (GetItem, Query), commits steps and summaries (PutItem) and consumes buffered events
 * (UpdateItem). It deletes nothing.
 */
export const RECONCILER_DYNAMODB_ACTIONS = ["GetItem", "PutItem", "UpdateItem", "Query"] as const;

/** What the grants are given to and on. */
export interface AccessParts {
  readonly engine: NodejsFunction;
  readonly api: NodejsFunction;
  readonly deadLetter: NodejsFunction;
  readonly reconciler: NodejsFunction;
  readonly workers: ReadonlyMap<string, NodejsFunction>;
  readonly tables: readonly dynamodb.Table[];
  readonly bucket: s3.Bucket;
  readonly transitions: CascadeQueue;
  readonly workerQueues: ReadonlyMap<string, CascadeQueue>;
  /** The functions run in the cache's VPC. */
  readonly inVpc: boolean;
}

/** Grants every function what it uses, and no more. */
export function grantAccess(scope: Construct, parts: AccessParts): void {
  const { tables: allTables, bucket, workers, workerQueues } = parts;
  // Least privilege: the item and object actions the runtime uses, on these resources only.
  // Nobody deletes payloads (the lifecycle rule does) and nobody scans or manages tables.
  const tableArns = allTables.flatMap((table) => [
    table.tableArn,
    ...Object.values(TABLE.indexes).map((index) => `${table.tableArn}/index/${index.name}`),
  ]);
  const payloadObjects = bucket.arnForObjects(`${PAYLOAD_PREFIX}*`);
  const grantData = (
    fn: NodejsFunction,
    actions: readonly string[] = DYNAMODB_ACTIONS,
    resources: string[] = tableArns,
  ): void => {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: S3_ACTIONS.map((a) => `s3:${a}`),
        resources: [payloadObjects],
      }),
    );
    const bucketId = Stack.of(scope).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    const role = fn.role;
    if (role) {
      Validations.of(role).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${PAYLOAD_PREFIX}*]`,
          reason:
            "Payload keys are content hashes under payloads/ chosen at run time; the grant is limited to that prefix and to Get/Put/AbortMultipartUpload.",
        },
        {
          id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
          reason:
            "AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs; it is the role Lambda documents for that.",
        },
      );
      if (parts.inVpc) {
        Validations.of(role).acknowledge({
          id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
          reason:
            "With the cache on, the function runs in the app's VPC; this managed policy only manages its network interfaces, as Lambda documents.",
        });
      }
    }
  };
  for (const fn of [parts.engine, parts.api, parts.deadLetter, ...workers.values()]) {
    grantData(fn);
    parts.transitions.queue.grantSendMessages(fn);
  }
  for (const q of workerQueues.values()) {
    q.queue.grantSendMessages(parts.engine);
    q.queue.grantSendMessages(parts.deadLetter);
  }
  // The reconciler lists through the by-app index only, and sends what it repairs to
  // whichever queue it was bound for.
  grantData(
    parts.reconciler,
    RECONCILER_DYNAMODB_ACTIONS,
    allTables.flatMap((table) => [
      table.tableArn,
      `${table.tableArn}/index/${TABLE.indexes.byApp.name}`,
    ]),
  );
  for (const q of [parts.transitions, ...workerQueues.values()])
    q.queue.grantSendMessages(parts.reconciler);
}

/** The engine's access to the buckets Maps read items from and write results to. */
export function grantObjectBuckets(
  engine: NodejsFunction,
  buckets: { readonly read: readonly string[]; readonly write: readonly string[] } | undefined,
): void {
  const arn = (bucket: string, path = "") => `arn:aws:s3:::${bucket}${path}`;
  if (buckets?.read.length) {
    engine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["s3:GetObject"],
        resources: buckets.read.map((b) => arn(b, "/*")),
      }),
    );
    // Without ListBucket S3 answers a missing key with 403, not 404.
    engine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["s3:ListBucket"],
        resources: buckets.read.map((b) => arn(b)),
      }),
    );
  }
  if (buckets?.write.length) {
    engine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
        resources: buckets.write.map((b) => arn(b, "/*")),
      }),
    );
  }
}
