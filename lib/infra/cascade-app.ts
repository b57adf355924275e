/**
 * `CascadeApp`: one Cascade app on AWS. Everything it creates is named by
 * `lib/manifest` (keys, indexes, TTL attribute, queue suffixes, environment
 * variable names) and sized by the app's `cascade.yaml` (see docs/deploy.md
 * for the mapping of every setting).
 */
import { existsSync } from "node:fs";
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { type CfnStage, HttpApi, HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { Alarm, Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { CfnServerlessCache } from "aws-cdk-lib/aws-elasticache";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NodejsFunction, type NodejsFunctionProps } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sns from "aws-cdk-lib/aws-sns";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { Deployment, Scaling } from "../app/config.ts";
import { MAX_DURATION_MS } from "../core/cdl/index.ts";
import {
  ENV,
  LAMBDA_MAX_EVENT_AGE_MINUTES,
  PAYLOAD_PREFIX,
  QUEUE_DEFAULTS,
  QUEUES,
  queueDisplayName,
  SQS_EVENT_SOURCE_MAX_CONCURRENCY,
  SQS_EVENT_SOURCE_MIN_CONCURRENCY,
  SQS_MAX_RETENTION_SECONDS,
  SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
  TABLE,
  TRANSITIONS_QUEUE,
  workerQueue,
} from "../manifest/index.ts";
import { applyActivitySetup } from "./activity-access.ts";
import {
  APP_ASSET_DIR,
  bundlingProject,
  copyAppCommand,
  FUNCTION_BUNDLING,
  type FunctionKind,
  functionEntry,
  LAMBDA_TASK_ROOT,
  stageApp,
} from "./bundle.ts";
import { assertDeployableAuth } from "./deploy-auth.ts";
import type { AppModel } from "./model.ts";
import { addObservability, type ProvisionedTarget } from "./observability.ts";

/** AWS advises a visibility timeout of at least six times the consuming function's timeout. */
export const VISIBILITY_PER_TIMEOUT = 6;
/** A dead-letter queue keeps messages as long as SQS allows (14 days), for a person to look at. */
export const DLQ_RETENTION_SECONDS = SQS_MAX_RETENTION_SECONDS;
/** How long function and access logs are kept. */
export const LOG_RETENTION = RetentionDays.ONE_MONTH;
/** Redis/Valkey's port, which ElastiCache Serverless listens on (TLS). */
export const CACHE_PORT = 6379;

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
/** The reconciler's memory, in MB: it waits on DynamoDB and SQS, and runs no activity. */
export const RECONCILER_MEMORY_MB = 512;
/**
 * The reconciler's longest timeout, in seconds; it is also never longer than the
 * schedule's period, so even without reserved concurrency a run ends before the next.
 */
export const RECONCILER_MAX_TIMEOUT_SECONDS = 300;

/** Props of {@link CascadeApp}. */
export interface CascadeAppProps {
  /** The app, read and checked by `readAppModel`. */
  readonly app: AppModel;
  /**
   * What happens to the tables and the payload bucket when the stack is deleted.
   * Default RETAIN: executions and payloads outlive a mistaken `cdk destroy`.
   */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /**
   * Skips bundling the app into the functions (the app is still checked). Tests that
   * only assert the template use it; a deployment never should. Default false.
   */
  readonly skipAppStaging?: boolean;
  /**
   * Entry files to use instead of Cascade's own `functions/*` (absolute, under the
   * project root), e.g. a handler wrapped with your own middleware. Default: none.
   */
  readonly entries?: Partial<Record<FunctionKind, string>>;
  /**
   * Where every alarm publishes (in ALARM and back to OK). Default: a topic the
   * construct creates ({@link CascadeApp.alarmTopic}); subscribe to it.
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The project the functions are bundled in (NodejsFunction's `projectRoot`). Default:
   * the nearest folder at or above the app holding a lockfile — your project.
   */
  readonly projectRoot?: string;
  /**
   * A VPC of yours for the cache and the functions that reach it (with `cache.enabled`);
   * it needs private subnets with egress. Default: a new 2-AZ VPC with one NAT gateway.
   */
  readonly vpc?: ec2.IVpc;
  /** Your project's lockfile (NodejsFunction's `depsLockFilePath`). Default: the one found with `projectRoot`. */
  readonly depsLockFilePath?: string;
}

/** Raised when the construct cannot be built from what it was given; `code` is stable. */
export class CascadeInfraError extends Error {
  readonly code: "INFRA_MISSING_ENTRY" | "INFRA_NO_TENANT" | "INFRA_RESERVED_ENV";
  constructor(code: CascadeInfraError["code"], message: string) {
    super(message);
    this.name = "CascadeInfraError";
    this.code = code;
  }
}

/** A work queue and the dead-letter queue its failures go to. */
export interface CascadeQueue {
  readonly queue: sqs.Queue;
  readonly deadLetter: sqs.Queue;
}

/**
 * The whole app on AWS: tables, queues, bucket, functions, HTTP API, cache, dashboard and alarms.
 * @throws OpenApiError (`INFRA_OPEN_API`) first of all, when cascade.yaml's auth would
 * deploy an API anyone can call (see `deployAuthProblem`).
 */
export class CascadeApp extends Construct {
  /** Tenant → table. Pooled isolation: every tenant maps to the one table. */
  readonly tables: ReadonlyMap<string, dynamodb.Table>;
  /** The table the functions' `CASCADE_TABLE` names (pooled: the only one; silo: the first tenant's). */
  readonly table: dynamodb.Table;
  readonly transitions: CascadeQueue;
  /** Worker pool → the queue of the activities that name it (`@payments`, the seed's `@us-east`). */
  readonly workerQueues: ReadonlyMap<string, CascadeQueue>;
  readonly bucket: s3.Bucket;
  readonly engine: NodejsFunction;
  readonly api: NodejsFunction;
  readonly deadLetter: NodejsFunction;
  /** Re-sends what idle executions committed but never sent, on {@link reconcilerSchedule}. */
  readonly reconciler: NodejsFunction;
  /** The EventBridge rule that runs the reconciler every `reconciler.every` of cascade.yaml. */
  readonly reconcilerSchedule: events.Rule;
  /** Worker pool → its worker function (in the stack's region, like everything else). */
  readonly workers: ReadonlyMap<string, NodejsFunction>;
  readonly httpApi: HttpApi;
  readonly vpc?: ec2.IVpc;
  readonly cache?: CfnServerlessCache;
  readonly dashboard: Dashboard;
  readonly alarms: readonly Alarm[];
  /** The topic every alarm publishes to: `alarmTopic` of the props, or one created here. */
  readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: CascadeAppProps) {
    super(scope, id);
    const { config } = props.app;
    // Before anything is built or bundled: an app that would deploy an open API stops here.
    assertDeployableAuth(config);
    const removalPolicy = props.dataRemovalPolicy ?? RemovalPolicy.RETAIN;
    const staged = props.skipAppStaging ? undefined : stageApp(config);
    const project =
      props.projectRoot !== undefined && props.depsLockFilePath !== undefined
        ? { root: props.projectRoot, lockfile: props.depsLockFilePath }
        : bundlingProject(config.dir);

    // Tables ---------------------------------------------------------------------------
    const tables = new Map<string, dynamodb.Table>();
    const tableIds =
      config.tenants.isolation === "silo"
        ? config.tenants.names.map((tenant) => ({ tenant, id: `${TABLE.id}-${tenant}` }))
        : [{ tenant: undefined, id: TABLE.id }];
    for (const { tenant, id: tableId } of tableIds) {
      const table = new dynamodb.Table(this, tableId, {
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
    this.tables = tables;
    const allTables = [...new Set(tables.values())];
    const primary = allTables[0];
    if (!primary) throw new CascadeInfraError("INFRA_NO_TENANT", "cascade.yaml lists no tenant");
    this.table = primary;

    // Payload bucket ---------------------------------------------------------------------
    // Payloads of a running execution are read until it ends: keep them for the longest an
    // execution may run plus the retention of ended ones (the runtime's TTL rule).
    const payloadDays = Math.ceil(MAX_DURATION_MS / 86_400_000) + config.retentionDays;
    const bucket = new s3.Bucket(this, "Payloads", {
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
    this.bucket = bucket;

    // Queues ----------------------------------------------------------------------------
    const visibility = (consumerTimeoutSeconds: number): Duration =>
      Duration.seconds(
        config.messaging.visibilityTimeoutSeconds ??
          Math.min(
            SQS_MAX_VISIBILITY_TIMEOUT_SECONDS,
            consumerTimeoutSeconds * VISIBILITY_PER_TIMEOUT,
          ),
      );
    const queuePair = (id: string, dlqId: string, consumerTimeoutSeconds: number): CascadeQueue => {
      const deadLetter = new sqs.Queue(this, dlqId, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.seconds(DLQ_RETENTION_SECONDS),
        visibilityTimeout: visibility(config.deployments.engine.timeoutSeconds),
      });
      const queue = new sqs.Queue(this, id, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.retentionSeconds),
        receiveMessageWaitTime: Duration.seconds(QUEUE_DEFAULTS.receiveWaitSeconds),
        visibilityTimeout: visibility(consumerTimeoutSeconds),
        deadLetterQueue: { queue: deadLetter, maxReceiveCount: config.messaging.maxReceiveCount },
      });
      return { queue, deadLetter };
    };
    this.transitions = queuePair(
      QUEUES.transitions.id,
      QUEUES.deadLetter.id,
      config.deployments.engine.timeoutSeconds,
    );
    const workerQueues = new Map<string, CascadeQueue>();
    for (const pool of props.app.workerPools) {
      const id = `${QUEUES.workerPrefix}${pool}`;
      workerQueues.set(pool, queuePair(id, `${id}-dlq`, config.deployments.workers.timeoutSeconds));
    }
    this.workerQueues = workerQueues;

    // Cache (optional) --------------------------------------------------------------------
    let network: { vpc: ec2.IVpc; securityGroup: ec2.SecurityGroup } | undefined;
    if (config.cache.enabled) {
      // aws-cdk-lib's classes and interfaces disagree under exactOptionalPropertyTypes.
      const vpc: ec2.IVpc =
        props.vpc ??
        (new ec2.Vpc(this, "Vpc", {
          maxAzs: 2,
          natGateways: 1,
          subnetConfiguration: [
            { name: "public", subnetType: ec2.SubnetType.PUBLIC },
            { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
          gatewayEndpoints: {
            DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
            S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
          },
          flowLogs: {
            all: {
              destination: ec2.FlowLogDestination.toCloudWatchLogs(
                new LogGroup(this, "VpcFlowLogs", { retention: LOG_RETENTION }),
              ),
              trafficType: ec2.FlowLogTrafficType.REJECT,
            },
          },
        }) as ec2.IVpc);
      const ivpc = vpc;
      const securityGroup = new ec2.SecurityGroup(this, "FunctionsSecurityGroup", {
        vpc: ivpc,
        description: "Cascade functions",
        allowAllOutbound: true,
      });
      const cacheGroup = new ec2.SecurityGroup(this, "CacheSecurityGroup", {
        vpc: ivpc,
        description: "Cascade activity cache: reachable from the functions only",
        allowAllOutbound: false,
      });
      cacheGroup.addIngressRule(securityGroup, ec2.Port.tcp(CACHE_PORT), "functions to Valkey");
      this.cache = new CfnServerlessCache(this, "Cache", {
        engine: "valkey",
        majorEngineVersion: "8",
        serverlessCacheName: `${config.name}-cascade`,
        description: `Cascade activity cache of ${config.name}`,
        securityGroupIds: [cacheGroup.securityGroupId],
        subnetIds: vpc.privateSubnets.map((s) => s.subnetId),
      });
      this.vpc = vpc;
      network = { vpc: ivpc, securityGroup };
    }

    // Functions ---------------------------------------------------------------------------
    const workerUrls: Record<string, string> = {};
    for (const [pool, q] of workerQueues) workerUrls[pool] = q.queue.queueUrl;
    const environment: Record<string, string> = {
      [ENV.APP]: config.name,
      [ENV.APP_DIR]: `${LAMBDA_TASK_ROOT}/${APP_ASSET_DIR}`,
      [ENV.TABLE]: primary.tableName,
      [ENV.TRANSITION_QUEUE_URL]: this.transitions.queue.queueUrl,
      [ENV.PAYLOAD_BUCKET]: this.bucket.bucketName,
      [ENV.OFFLOAD_THRESHOLD_BYTES]: String(config.offloadThresholdBytes),
      [ENV.RETENTION_DAYS]: String(config.retentionDays),
      ...(workerQueues.size > 0
        ? { [ENV.WORKER_QUEUE_URLS]: Stack.of(this).toJsonString(workerUrls) }
        : {}),
      ...(config.tenants.isolation === "silo"
        ? {
            [ENV.TENANT_TABLES]: Stack.of(this).toJsonString(
              Object.fromEntries([...tables].map(([t, table]) => [t, table.tableName])),
            ),
          }
        : {}),
      ...(this.cache
        ? {
            [ENV.CACHE_ENDPOINT]: `${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`,
          }
        : {}),
    };
    const architecture =
      config.platform.architecture === "x86_64"
        ? lambda.Architecture.X86_64
        : lambda.Architecture.ARM_64;
    const makeFunction = (
      id: string,
      kind: FunctionKind,
      deployment: Deployment,
      description: string,
      options: {
        /** Default: the environment every function shares. */
        readonly environment?: Record<string, string>;
        /** Keep the function out of the cache's VPC (it never reaches the cache). */
        readonly outsideVpc?: boolean;
        readonly props?: Pick<
          NodejsFunctionProps,
          "reservedConcurrentExecutions" | "retryAttempts" | "maxEventAge"
        >;
      } = {},
    ): NodejsFunction => {
      const entry = props.entries?.[kind] ?? functionEntry(kind);
      if (!existsSync(entry)) {
        throw new CascadeInfraError(
          "INFRA_MISSING_ENTRY",
          `the ${kind} function's entry ${entry} does not exist`,
        );
      }
      return new NodejsFunction(this, id, {
        entry,
        handler: "handler",
        projectRoot: project.root,
        depsLockFilePath: project.lockfile,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture,
        memorySize: deployment.memoryMb,
        timeout: Duration.seconds(deployment.timeoutSeconds),
        description,
        environment: options.environment ?? environment,
        logGroup: new LogGroup(this, `${id}Logs`, { retention: LOG_RETENTION }),
        // Powertools prints JSON lines and reads AWS_LAMBDA_LOG_LEVEL, which Lambda sets from
        // this level; EMF lines go raw to standard output, which the JSON format leaves as printed.
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel[config.logging.level],
        // These feed the queues they consume (engine → transitions → engine, engine ↔ workers):
        // Lambda's loop detection would stop an execution after about 16 hops otherwise.
        ...(kind === "engine" || kind === "worker" || kind === "deadLetter"
          ? { recursiveLoop: lambda.RecursiveLoop.ALLOW }
          : {}),
        ...options.props,
        ...(network && !options.outsideVpc
          ? {
              vpc: network.vpc,
              vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
              securityGroups: [network.securityGroup],
            }
          : {}),
        bundling: {
          ...FUNCTION_BUNDLING,
          mainFields: [...FUNCTION_BUNDLING.mainFields],
          externalModules: [...FUNCTION_BUNDLING.externalModules],
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (_input: string, output: string) =>
              staged ? [copyAppCommand(staged, output)] : [],
          },
        },
      });
    };

    this.engine = makeFunction(
      "Engine",
      "engine",
      config.deployments.engine,
      `Cascade ${config.name}: runs each transition of the transition queue`,
    );
    this.api = makeFunction(
      "Api",
      "api",
      config.deployments.api,
      `Cascade ${config.name}: the HTTP API`,
    );
    this.deadLetter = makeFunction(
      "DeadLetter",
      "deadLetter",
      config.deployments.engine,
      `Cascade ${config.name}: fails the executions of dead-lettered messages`,
    );
    // The reconciler runs no activity, so it needs neither the cache nor its VPC.
    const { [ENV.CACHE_ENDPOINT]: _cache, ...reconcilerEnvironment } = environment;
    const everyMinutes = config.reconciler.everyMinutes;
    this.reconciler = makeFunction(
      "Reconciler",
      "reconciler",
      {
        memoryMb: RECONCILER_MEMORY_MB,
        timeoutSeconds: Math.min(RECONCILER_MAX_TIMEOUT_SECONDS, everyMinutes * 60),
      },
      `Cascade ${config.name}: re-sends the work that idle executions committed but never sent`,
      {
        environment: reconcilerEnvironment,
        outsideVpc: true,
        props: {
          ...(config.reconciler.reservedConcurrency === 1
            ? { reservedConcurrentExecutions: 1 }
            : {}),
          // The next tick is the retry; a tick older than the period is superseded by it.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(Math.min(everyMinutes, LAMBDA_MAX_EVENT_AGE_MINUTES)),
        },
      },
    );
    this.reconcilerSchedule = new events.Rule(this, "ReconcilerSchedule", {
      description: `Cascade ${config.name}: runs the reconciler every ${everyMinutes} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(everyMinutes)),
      targets: [
        new eventTargets.LambdaFunction(this.reconciler, {
          maxEventAge: Duration.minutes(Math.min(everyMinutes, LAMBDA_MAX_EVENT_AGE_MINUTES)),
        }),
      ],
    });
    const workers = new Map<string, NodejsFunction>();
    for (const pool of workerQueues.keys()) {
      workers.set(
        pool,
        makeFunction(
          `Worker-${pool}`,
          "worker",
          config.deployments.workers,
          `Cascade ${config.name}: activities of worker pool ${pool}`,
        ),
      );
    }
    this.workers = workers;
    // cascade.yaml's `activities:` block: permissions, environment and secrets of the
    // functions that run activities (the engine runs inline Tasks, the workers the rest).
    applyActivitySetup(this, config.activitySetup, [this.engine, ...workers.values()]);
    // Maps' item_reader and result_writer buckets named in the workflows: the engine
    // reads and writes them (templated ones get their access from `activities.permissions`).
    grantObjectBuckets(this.engine, props.app.objectBuckets);

    // Least privilege: the item and object actions the runtime uses, on these resources only.
    // Nobody deletes payloads (the lifecycle rule does) and nobody scans or manages tables.
    const tableArns = allTables.flatMap((table) => [
      table.tableArn,
      ...Object.values(TABLE.indexes).map((index) => `${table.tableArn}/index/${index.name}`),
    ]);
    const payloadObjects = this.bucket.arnForObjects(`${PAYLOAD_PREFIX}*`);
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
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
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
        if (network) {
          Validations.of(role).acknowledge({
            id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
            reason:
              "With the cache on, the function runs in the app's VPC; this managed policy only manages its network interfaces, as Lambda documents.",
          });
        }
      }
    };
    for (const fn of [this.engine, this.api, this.deadLetter, ...workers.values()]) {
      grantData(fn);
      this.transitions.queue.grantSendMessages(fn);
    }
    for (const q of workerQueues.values()) {
      q.queue.grantSendMessages(this.engine);
      q.queue.grantSendMessages(this.deadLetter);
    }
    // The reconciler lists through the by-app index only, and sends what it repairs to
    // whichever queue it was bound for.
    grantData(
      this.reconciler,
      RECONCILER_DYNAMODB_ACTIONS,
      allTables.flatMap((table) => [
        table.tableArn,
        `${table.tableArn}/index/${TABLE.indexes.byApp.name}`,
      ]),
    );
    for (const q of [this.transitions, ...workerQueues.values()])
      q.queue.grantSendMessages(this.reconciler);

    // Event sources and scaling -------------------------------------------------------------
    const provisioned: ProvisionedTarget[] = [];
    const target = (
      fn: NodejsFunction,
      scaling: Scaling,
      role: ProvisionedTarget["role"],
      name: string,
      queue?: string,
    ): lambda.IFunction => {
      if (scaling.min <= 0) return fn;
      const alias = fn.addAlias("live", { provisionedConcurrentExecutions: scaling.min });
      provisioned.push({
        name,
        role,
        alias,
        min: scaling.min,
        max: scaling.max,
        ...(queue ? { queue } : {}),
      });
      return alias as lambda.IFunction;
    };
    const consume = (
      fn: lambda.IFunction,
      queue: sqs.IQueue,
      scaling: Scaling | undefined,
    ): void => {
      const { batchSize, batchingWindowSeconds } = config.messaging;
      fn.addEventSource(
        new SqsEventSource(queue, {
          batchSize,
          ...(batchingWindowSeconds > 0
            ? { maxBatchingWindow: Duration.seconds(batchingWindowSeconds) }
            : {}),
          reportBatchItemFailures: true,
          maxConcurrency: clampConcurrency(scaling?.max ?? SQS_EVENT_SOURCE_MIN_CONCURRENCY),
        }),
      );
    };
    consume(
      target(this.engine, config.autoscaling.engine, "engine", "engine", TRANSITIONS_QUEUE),
      this.transitions.queue,
      config.autoscaling.engine,
    );
    for (const [pool, fn] of workers) {
      const q = workerQueues.get(pool);
      if (q)
        consume(
          target(
            fn,
            config.autoscaling.workers,
            "workers",
            `worker-${pool}`,
            queueDisplayName(workerQueue(pool)),
          ),
          q.queue,
          config.autoscaling.workers,
        );
    }
    for (const q of [this.transitions, ...workerQueues.values()]) {
      consume(this.deadLetter, q.deadLetter, undefined);
    }
    const apiTarget = target(this.api, config.autoscaling.api, "api", "api");

    // HTTP API ---------------------------------------------------------------------------
    const { auth } = config;
    const authorizer =
      auth.type === "jwt" && auth.issuer !== undefined
        ? new HttpJwtAuthorizer("Jwt", auth.issuer, { jwtAudience: [...(auth.audience ?? [])] })
        : auth.type === "iam"
          ? new HttpIamAuthorizer()
          : undefined;
    this.httpApi = new HttpApi(this, "HttpApi", {
      description: `Cascade ${config.name}`,
      ...(authorizer ? { defaultAuthorizer: authorizer } : {}),
    });
    if (!authorizer) {
      Validations.of(this.httpApi).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "cascade.yaml opts in to an open API explicitly (auth: { type: none, public: true }); such an app serves one tenant.",
      });
    }
    const integration = new HttpLambdaIntegration("ApiIntegration", apiTarget);
    this.httpApi.addRoutes({ path: "/v1/{proxy+}", methods: [HttpMethod.ANY], integration });
    // The web console's page and files, served by the same function behind the same authorizer.
    for (const path of ["/", "/console/{proxy+}"])
      this.httpApi.addRoutes({ path, methods: [HttpMethod.GET], integration });
    for (const trigger of config.triggers) {
      this.httpApi.addRoutes({
        path: trigger.path,
        methods: [HttpMethod[trigger.method]],
        integration,
      });
    }
    const accessLogs = new LogGroup(this, "ApiAccessLogs", { retention: LOG_RETENTION });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage | undefined;
    if (stage) {
      const limit = apiRateLimit(config.autoscaling.api);
      stage.defaultRouteSettings = {
        throttlingBurstLimit: limit.burst,
        throttlingRateLimit: limit.rate,
      };
      stage.accessLogSettings = {
        destinationArn: accessLogs.logGroupArn,
        format: JSON.stringify(ACCESS_LOG_FORMAT),
      };
    }

    // Alarms ------------------------------------------------------------------------------
    if (props.alarmTopic) this.alarmTopic = props.alarmTopic;
    else {
      const topic = new sns.Topic(this, "Alarms", {
        displayName: `Cascade ${config.name} alarms`,
        enforceSSL: true,
      });
      Validations.of(topic).acknowledge({
        id: "AwsSolutions-SNS2",
        reason:
          "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key, and alarm messages carry only alarm names and states; pass alarmTopic to use your own encrypted topic.",
      });
      this.alarmTopic = topic;
    }
    this.api.addToRolePolicy(
      new iam.PolicyStatement({
        // `cascade metrics` on AWS: GetMetricData has no resource-level permissions.
        actions: ["cloudwatch:GetMetricData"],
        resources: ["*"],
      }),
    );
    if (this.api.role)
      Validations.of(this.api.role).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "cloudwatch:GetMetricData supports no resource-level permissions; it only reads metrics (cascade metrics on AWS).",
      });
    const observed = addObservability(this, {
      app: config.name,
      workflows: props.app.workflows,
      functions: {
        engine: this.engine,
        api: this.api,
        deadLetter: this.deadLetter,
        reconciler: this.reconciler,
        workers,
      },
      queues: [
        { name: TRANSITIONS_QUEUE, role: "engine" as const, ...this.transitions },
        ...[...workerQueues].map(([pool, q]) => ({
          name: queueDisplayName(workerQueue(pool)),
          role: "workers" as const,
          ...q,
        })),
      ],
      httpApi: this.httpApi,
      alarmTopic: this.alarmTopic,
      operations: config.operations,
      provisioned,
    });
    this.dashboard = observed.dashboard;
    this.alarms = observed.alarms;
  }
}

/** Lambda's maximum concurrency of an SQS event source lies in [2, 1000]. */
export function clampConcurrency(max: number): number {
  return Math.min(
    SQS_EVENT_SOURCE_MAX_CONCURRENCY,
    Math.max(SQS_EVENT_SOURCE_MIN_CONCURRENCY, max),
  );
}

/**
 * The API's `autoscaling.max` as stage throttling: a function has no replica count, and
 * reserving concurrency would fail on new accounts (their quota is 10). At about a
 * second per request, `max` requests per second keep about `max` instances busy.
 */
export function apiRateLimit(scaling: Scaling): { rate: number; burst: number } {
  const max = Math.max(1, scaling.max);
  return { rate: max, burst: max * 2 };
}

/** One JSON line per request in the API's access log. */
export const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  time: "$context.requestTime",
  method: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  latencyMs: "$context.responseLatency",
  integrationLatencyMs: "$context.integrationLatency",
  error: "$context.error.message",
  integrationError: "$context.integrationErrorMessage",
} as const;

/** The engine's access to the buckets Maps read items from and write results to. */
function grantObjectBuckets(
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
