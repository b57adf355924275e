/** What an execution spends on AWS, where adapters charge it, and where metrics go. */

import type { Metric } from "../engine/types.ts";
import type { ExecutionHeader } from "./records.ts";
import type { ExecutionOwner } from "./store.ts";

/**
 * AWS usage attributed to one execution: what its steps cost at list prices. Fractions
 * are shares of requests shared with other executions (an SQS batch, an invocation).
 */
export interface Usage {
  /** DynamoDB write capacity units (1 KB each, rounded up per item). */
  readonly wcu: number;
  /** DynamoDB read capacity units (4 KB each for a strongly consistent read, 8 KB eventual). */
  readonly rcu: number;
  /** SQS requests (sends, receives, deletes). */
  readonly sqs: number;
  /** S3 PUT-class requests (put, multipart parts). */
  readonly s3: number;
  /** S3 GET-class requests. */
  readonly s3Get: number;
  /** Lambda invocations. */
  readonly invocations: number;
  /** Lambda GB-seconds: measured milliseconds times the function's memory. */
  readonly gbs: number;
}

/** No usage. */
export const NO_USAGE: Usage = {
  wcu: 0,
  rcu: 0,
  sqs: 0,
  s3: 0,
  s3Get: 0,
  invocations: 0,
  gbs: 0,
};

/** The sum of two usages. */
export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  return {
    wcu: a.wcu + (b.wcu ?? 0),
    rcu: a.rcu + (b.rcu ?? 0),
    sqs: a.sqs + (b.sqs ?? 0),
    s3: a.s3 + (b.s3 ?? 0),
    s3Get: a.s3Get + (b.s3Get ?? 0),
    invocations: a.invocations + (b.invocations ?? 0),
    gbs: a.gbs + (b.gbs ?? 0),
  };
}

/**
 * Where adapters report the requests they make for an execution (the runtime's usage
 * meter): each charge goes to the invocation being metered, if any.
 */
export interface UsageSink {
  charge(owner: ExecutionOwner, usage: Partial<Usage>): void;
}

/** Where metrics go: CloudWatch EMF lines on Lambda, the same samples locally. */
export interface MetricsSink {
  /** Metrics of one execution that share their dimensions. `at` is epoch ms. */
  emit(header: ExecutionHeader, metrics: readonly Metric[], at: number): void;
  /** The transition latencies (ms) of the messages one batch handled. */
  latencies(app: string, values: readonly number[], at: number): void;
  /** One SQS batch: its records and how many failed (reported for redelivery). */
  records?(app: string, received: number, failed: number, at: number): void;
  /** One HTTP API request's own latency in ms: its handling, less any wait for an execution's end. */
  apiLatency?(app: string, ms: number, at: number): void;
}
