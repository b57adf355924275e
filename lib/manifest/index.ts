/**
 * The one description of Cascade's tables, indexes, queues, environment
 * variables and limits. The CDK construct (`lib/infra`) and the local stack
 * (`lib/local`) both read it, so infrastructure and runtime cannot drift.
 * It imports nothing.
 */
export * from "./aws-limits.ts";
export * from "./queues.ts";
export * from "./secrets.ts";

/** Default: data larger than this (JSON bytes) moves to the payload bucket and is referenced. */
export const DEFAULT_OFFLOAD_THRESHOLD_BYTES = 200 * 1024;
/** Default retention of finished executions before TTL removes them, in days. */
export const DEFAULT_RETENTION_DAYS = 30;
/** Default receives before a message goes to its dead-letter queue. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/**
 * The functions' memory (MB) and timeout (seconds) when `cascade.yaml` sets none
 * (`deployments.<api|engine|workers>`). The CDK construct gives the Lambda functions
 * these, and `cascade dev`'s pollers kill a batch that runs past the same timeouts:
 * `engine` consumes the transition queue (and the dead-letter queues), `workers` the
 * worker pools' `activities-<pool>` queues.
 */
export const FUNCTION_DEFAULTS = {
  api: { memoryMb: 512, timeoutSeconds: 30 },
  engine: { memoryMb: 1_024, timeoutSeconds: 60 },
  workers: { memoryMb: 1_024, timeoutSeconds: 300 },
} as const;
/**
 * How much of its function's timeout a Task may not use, in milliseconds. After the
 * activity returns (or its own timeout fires), the same invocation still commits the
 * step to DynamoDB and sends what follows to SQS; a Task whose `timeout` (or, without
 * one, `heartbeat`) plus this margin is longer than the function's timeout is refused
 * by `cascade validate`, `cascade dev` and `cdk synth` (CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION).
 */
export const TASK_COMMIT_MARGIN_MS = 5_000;

/**
 * The version of the table layout (item types and keys) this Cascade writes. Raise it
 * whenever data written by the previous version cannot be read by this one: `cascade
 * dev` records it in its data folder (`.cascade/layout.json`) and refuses a folder of
 * another layout rather than misread it. 1 was the layout before the step log (and
 * folders without a marker); 2 is the step log (DESIGN section 5).
 */
export const DATA_LAYOUT_VERSION = 2;

/** The single table: its keys, indexes and TTL attribute. */
export const TABLE = {
  /** Logical id; the physical name is `<app>-cascade` unless configured. */
  id: "Executions",
  partitionKey: "pk",
  sortKey: "sk",
  /** Epoch seconds after which DynamoDB may delete the item. */
  ttlAttribute: "expires_at",
  indexes: {
    /** Executions of one workflow, newest first: pk `<tenant>#<app>#<workflow>`, sk `<started ISO>#<id>`. */
    byWorkflow: { name: "by-workflow", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
    /** Executions of every workflow of an app, newest first: pk `<tenant>#<app>`, sk `<started ISO>#<id>`. */
    byApp: { name: "by-app", partitionKey: "gsi2pk", sortKey: "gsi2sk" },
  },
} as const;

/** Sort-key shapes of the item types under an execution's partition `X#<tenant>#<execution>`. */
export const ITEM = {
  /** The execution's summary: listing keys, status, pinned definition hash, outcome. */
  execution: "EXEC",
  /**
   * One step of one thread's log: `S#<thread id>#<step, 10 digits>`, with the step's
   * state, history and outbox (DESIGN.md section 5). Thread ids end in `]` or are
   * `root`, so `S#<thread>#` matches that thread's steps only.
   */
  stepPrefix: "S#",
  /** A Parallel or Map activation's join: `J#<join id>`. */
  joinPrefix: "J#",
  /** An external event that arrived before a state waited for it: `E#<event>#<arrival>`. */
  eventPrefix: "E#",
  /**
   * A branch thread waiting for an external event, from one of its steps:
   * `W#<event>#<thread id>#<step, 10 digits>` (the index `signal` reads, one query).
   */
  waiterPrefix: "W#",
  /** Why the execution's messages last failed (for the dead-letter handler). */
  failure: "FAIL",
  /** A cancel request, written before the cancel is applied: queued and running work checks it. */
  cancel: "CANCEL",
  /** The execution this one redrives (`L#of`, one item). */
  redriveOf: "L#of",
  /** An execution that redrives this one: `L#to#<13-digit epoch ms>#<id>` (append-only). */
  redrivePrefix: "L#to#",
} as const;

/** Partition keys. */
export const KEYS = {
  execution: (tenant: string, executionId: string) => `X#${tenant}#${executionId}`,
  /** A workflow definition by content hash (pk and sk). */
  definition: (hash: string) => `D#${hash}`,
} as const;

/** How the queues are set up; the CDK construct derives visibility from the function timeout. */
export const QUEUE_DEFAULTS = {
  visibilityTimeoutSeconds: 60,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  batchSize: 10,
  batchingWindowSeconds: 0,
} as const;

/** The payload bucket's key prefix for offloaded data. */
export const PAYLOAD_PREFIX = "payloads/";

/** Environment variables the functions read (once, at module scope). */
export const ENV = {
  APP: "CASCADE_APP",
  /** The folder holding the app's workflows/ and activities/ (in the bundle). Default `app`. */
  APP_DIR: "CASCADE_APP_DIR",
  TABLE: "CASCADE_TABLE",
  TRANSITION_QUEUE_URL: "CASCADE_TRANSITION_QUEUE_URL",
  /** JSON object: worker pool → queue URL (`@pool` activities). */
  WORKER_QUEUE_URLS: "CASCADE_WORKER_QUEUE_URLS",
  PAYLOAD_BUCKET: "CASCADE_PAYLOAD_BUCKET",
  OFFLOAD_THRESHOLD_BYTES: "CASCADE_OFFLOAD_THRESHOLD_BYTES",
  RETENTION_DAYS: "CASCADE_RETENTION_DAYS",
  /** Silo isolation: JSON object tenant → table name (`TABLE` is then the first tenant's). */
  TENANT_TABLES: "CASCADE_TENANT_TABLES",
  /** The activity cache's endpoint (`host:port`, TLS), set only when `cache.enabled`. */
  CACHE_ENDPOINT: "CASCADE_CACHE_ENDPOINT",
  /**
   * JSON object: variable → `secretsmanager:<id>[#<key>]` or `ssm:<name>` (cascade.yaml
   * `activities.secrets`). The functions that run activities read each at cold start,
   * before loading the app, and set the variable.
   */
  SECRETS: "CASCADE_SECRETS",
  /** `otlp`: the function exports OpenTelemetry spans (cascade.yaml `tracing.exporter`); unset: off. */
  TRACES: "CASCADE_TRACES",
  /** The standard OTLP/HTTP base URL the exporter sends to (cascade.yaml `tracing.endpoint`). */
  OTLP_ENDPOINT: "OTEL_EXPORTER_OTLP_ENDPOINT",
  /** Local stack only: the emulators' endpoints. */
  DYNAMODB_ENDPOINT: "CASCADE_DYNAMODB_ENDPOINT",
  SQS_ENDPOINT: "CASCADE_SQS_ENDPOINT",
  S3_ENDPOINT: "CASCADE_S3_ENDPOINT",
} as const;

/**
 * CloudWatch metrics the runtime emits as Embedded Metric Format lines, read by the
 * CDK dashboard and alarms. Every metric is also emitted with the dimension set
 * [app] alone (a per-app roll-up), and a metric with a workflow and another dimension
 * also without the workflow ([app, activity], [app, outcome]: `cascade metrics` on AWS). `emitted` are written today (dimensions listed).
 */
export const METRICS = {
  namespace: "Cascade",
  emitted: {
    /** Milliseconds from start to end; dimensions app, workflow. */
    WorkflowDuration: { unit: "Milliseconds", dimensions: ["app", "workflow"] },
    /** 1 per ended execution; dimensions app, workflow, outcome (succeeded|failed|cancelled). */
    WorkflowOutcome: { unit: "Count", dimensions: ["app", "workflow", "outcome"] },
    /** Milliseconds an activity ran; dimensions app, workflow, activity. */
    ActivityDuration: { unit: "Milliseconds", dimensions: ["app", "workflow", "activity"] },
    /** 1 per failed activity attempt; dimensions app, workflow, activity. */
    ActivityErrors: { unit: "Count", dimensions: ["app", "workflow", "activity"] },
    /** 1 per started execution; dimensions app, workflow. */
    WorkflowStarted: { unit: "Count", dimensions: ["app", "workflow"] },
    /** Cache hits and misses (Task `cache:` and `ctx.cache`); dimensions app, workflow, activity, tier (L1|L2), and the app roll-up. */
    CacheHits: { unit: "Count", dimensions: ["app"] },
    CacheMisses: { unit: "Count", dimensions: ["app"] },
    /** Milliseconds from a message's send (or due time) to its handling; dimension app. */
    TransitionLatency: { unit: "Milliseconds", dimensions: ["app"] },
    /** Records per SQS batch of the engine and worker functions; dimension app. */
    BatchRecords: { unit: "Count", dimensions: ["app"] },
    /** Records of a batch reported failed (redelivered, then dead-lettered); dimension app. */
    FailedRecords: { unit: "Count", dimensions: ["app"] },
    /**
     * Milliseconds the API took to answer a request, less any wait for an execution's end
     * (`?wait=`, sync triggers: that time is the workflow's); dimension app. The p99 alarm's.
     */
    ApiLatency: { unit: "Milliseconds", dimensions: ["app"] },
  },
} as const;
