/**
 * `CascadeApp`: one Cascade app on AWS. Everything it creates is named by
 * `lib/manifest` (keys, indexes, TTL attribute, queue suffixes, environment
 * variable names) and sized by the app's `cascade.yaml` (see docs/deploy.md
 * for the mapping of every setting).
 */
import { existsSync } from "node:fs";
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import type { Alarm, Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import type * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type { CfnServerlessCache } from "aws-cdk-lib/aws-elasticache";
import * as events from "aws-cdk-lib/aws-events";
import * as eventTargets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, type NodejsFunctionProps } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { Deployment } from "../app/config.ts";
import {
  ENV,
  LAMBDA_MAX_EVENT_AGE_MINUTES,
  queueDisplayName,
  TRANSITIONS_QUEUE,
  workerQueue,
} from "../manifest/index.ts";
import { applyActivitySetup } from "./activity-access.ts";
import { grantAccess, grantObjectBuckets } from "./app-access.ts";
import { createCache } from "./app-cache.ts";
import { createPayloadBucket, createQueues, createTables } from "./app-data.ts";
import { createHttpApi } from "./app-http.ts";
import { CascadeInfraError, type CascadeQueue, LOG_RETENTION } from "./app-parts.ts";
import { connectQueues } from "./app-sources.ts";
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
import { addObservability } from "./observability.ts";

export {
  DYNAMODB_ACTIONS,
  RECONCILER_DYNAMODB_ACTIONS,
  S3_ACTIONS,
} from "./app-access.ts";
export { CACHE_PORT } from "./app-cache.ts";
export { DLQ_RETENTION_SECONDS, VISIBILITY_PER_TIMEOUT } from "./app-data.ts";
export { ACCESS_LOG_FORMAT, apiRateLimit } from "./app-http.ts";
export { CascadeInfraError, type CascadeQueue, LOG_RETENTION } from "./app-parts.ts";
export { clampConcurrency } from "./app-sources.ts";

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

    const { tables, primary } = createTables(this, config, removalPolicy);
    this.tables = tables;
    this.table = primary;
    const allTables = [...new Set(tables.values())];
    this.bucket = createPayloadBucket(this, config, removalPolicy);
    const { transitions, workerQueues } = createQueues(this, config, props.app.workerPools);
    this.transitions = transitions;
    this.workerQueues = workerQueues;
    const cached = createCache(this, config, props.vpc);
    const network = cached?.network;
    if (cached) {
      this.cache = cached.cache;
      this.vpc = cached.vpc;
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
        : {}), // cascade.yaml's tracing: read at cold start by the functions' bootstrap (tracing-setup.ts).
      ...(config.tracing.exporter === "otlp"
        ? {
            [ENV.TRACES]: "otlp",
            ...(config.tracing.endpoint === undefined
              ? {}
              : { [ENV.OTLP_ENDPOINT]: config.tracing.endpoint }),
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
    // The reconciler runs no activity, so it needs neither the cache nor its VPC; it handles
    // no hop of an execution either, so it exports no spans.
    const {
      [ENV.CACHE_ENDPOINT]: _cache,
      [ENV.TRACES]: _traces,
      [ENV.OTLP_ENDPOINT]: _otlp,
      ...reconcilerEnvironment
    } = environment;
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
    grantAccess(this, {
      engine: this.engine,
      api: this.api,
      deadLetter: this.deadLetter,
      reconciler: this.reconciler,
      workers,
      tables: allTables,
      bucket: this.bucket,
      transitions: this.transitions,
      workerQueues,
      inVpc: network !== undefined,
    });

    const { provisioned, apiTarget } = connectQueues(
      config,
      { engine: this.engine, api: this.api, deadLetter: this.deadLetter, workers },
      { transitions: this.transitions, workerQueues },
    );
    this.httpApi = createHttpApi(this, config, apiTarget);

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
