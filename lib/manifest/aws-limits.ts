/**
 * AWS's limits that Cascade designs around, each in one place with its unit: the CDK
 * construct, cascade.yaml's checks, the runtime's budgets, the API, the CLI and the
 * adapters import them from here. Imports nothing.
 */

/** DynamoDB's hard item limit, in bytes. */
export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;
/** SQS's message size limit we design for (the classic 256 KiB, though AWS now allows 1 MiB). */
export const SQS_MESSAGE_LIMIT_BYTES = 256 * 1024;
/** SQS's longest per-message delay; longer timers are chained. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** SQS batch operations take at most this many entries. */
export const SQS_MAX_BATCH = 10;
/** DynamoDB BatchWriteItem takes at most this many requests. */
export const DYNAMODB_MAX_BATCH_WRITE = 25;
/** DynamoDB's longest partition key value, in UTF-8 bytes. */
export const DYNAMODB_PARTITION_KEY_LIMIT_BYTES = 2048;
/** DynamoDB's longest sort key value, in UTF-8 bytes. */
export const DYNAMODB_SORT_KEY_LIMIT_BYTES = 1024;
/** S3's longest object key, in UTF-8 bytes. */
export const S3_KEY_LIMIT_BYTES = 1024;
/** S3's largest object (a multipart upload), in bytes: 5 TiB. */
export const S3_OBJECT_LIMIT_BYTES = 5 * 1024 ** 4;

/** Lambda's limit on a function's environment variables: keys and values, 4 KB in all. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4 * 1024;
/**
 * How much of that Cascade keeps for its own variables (table, queue URLs, bucket,
 * endpoints: resolved names, about 1 KB with several worker pools); an app's
 * `activities.environment` and `activities.secrets` get the rest.
 */
export const CASCADE_ENVIRONMENT_RESERVE_BYTES = 1_536;
/** Variables Lambda sets itself; an app cannot set them (Lambda's "reserved environment variables"). */
export const RESERVED_ENV_NAMES = [
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
  "TZ",
] as const;
/** Prefixes of variables that belong to Lambda (`AWS_`) or to Cascade (`CASCADE_`). */
export const RESERVED_ENV_PREFIXES = ["AWS_", "CASCADE_"] as const;

/** Lambda's longest function timeout, in seconds (15 minutes). */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** ElastiCache Serverless's largest data storage limit (`CacheUsageLimits.DataStorage.Maximum`), in GB. */
export const ELASTICACHE_SERVERLESS_MAX_STORAGE_GB = 5000;
/** Lambda's smallest and largest function memory, in MB. */
export const LAMBDA_MIN_MEMORY_MB = 128;
export const LAMBDA_MAX_MEMORY_MB = 10_240;
/** Lambda's longest batching window of an event source mapping, in seconds (5 minutes). */
export const LAMBDA_MAX_BATCHING_WINDOW_SECONDS = 300;
/** An SQS event source's maximum concurrency lies between these (Lambda's limits). */
export const SQS_EVENT_SOURCE_MIN_CONCURRENCY = 2;
export const SQS_EVENT_SOURCE_MAX_CONCURRENCY = 1_000;
/** Lambda keeps an asynchronous event (a schedule's tick) at most 6 hours, in minutes. */
export const LAMBDA_MAX_EVENT_AGE_MINUTES = 360;

/** SQS's longest visibility timeout, in seconds (12 hours). */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** SQS keeps a message at most 14 days, in seconds (the dead-letter queues keep them that long). */
export const SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600;

/** API Gateway's integration timeout, in seconds: a request is answered within it or gets a 503. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 30;
/**
 * The longest a synchronous start (`?wait=`, a sync trigger, `cascade load`) waits for an
 * execution's output, in seconds: a second under API Gateway's integration timeout, so
 * the answer still goes out.
 */
export const MAX_SYNC_WAIT_SECONDS = API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS - 1;

/** EventBridge runs a `rate()` schedule at most once a minute, in whole minutes. */
export const EVENTBRIDGE_MIN_RATE_MINUTES = 1;
