import { Duration } from "aws-cdk-lib";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Scaling } from "../app/config.ts";
import {
  queueDisplayName,
  SQS_EVENT_SOURCE_MAX_CONCURRENCY,
  SQS_EVENT_SOURCE_MIN_CONCURRENCY,
  TRANSITIONS_QUEUE,
  workerQueue,
} from "../manifest/index.ts";
import type { CascadeQueue } from "./app-parts.ts";
import type { AppModel } from "./model.ts";
import type { ProvisionedTarget } from "./observability.ts";

/** Connects the queues to the functions; returns the provisioned targets and what the API integrates with. */
export function connectQueues(
  config: AppModel["config"],
  fns: {
    readonly engine: NodejsFunction;
    readonly api: NodejsFunction;
    readonly deadLetter: NodejsFunction;
    readonly workers: ReadonlyMap<string, NodejsFunction>;
  },
  queues: {
    readonly transitions: CascadeQueue;
    readonly workerQueues: ReadonlyMap<string, CascadeQueue>;
  },
): { provisioned: ProvisionedTarget[]; apiTarget: lambda.IFunction } {
  const { workers } = fns;
  const { workerQueues } = queues;
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
  const consume = (fn: lambda.IFunction, queue: sqs.IQueue, scaling: Scaling | undefined): void => {
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
    target(fns.engine, config.autoscaling.engine, "engine", "engine", TRANSITIONS_QUEUE),
    queues.transitions.queue,
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
  for (const q of [queues.transitions, ...workerQueues.values()]) {
    consume(fns.deadLetter, q.deadLetter, undefined);
  }
  const apiTarget = target(fns.api, config.autoscaling.api, "api", "api");
  return { provisioned, apiTarget };
}

/** Lambda's maximum concurrency of an SQS event source lies in [2, 1000]. */
export function clampConcurrency(max: number): number {
  return Math.min(
    SQS_EVENT_SOURCE_MAX_CONCURRENCY,
    Math.max(SQS_EVENT_SOURCE_MIN_CONCURRENCY, max),
  );
}
