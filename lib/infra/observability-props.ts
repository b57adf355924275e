/**
 * What the dashboard, the alarms and the scaling policies share: the thresholds of the
 * scalability guide, the periods, the construct's props, and Cascade's own alarm metrics
 * (from the runtime's EMF lines, per-app roll-ups).
 */
import { Duration } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { MathExpression, Metric } from "aws-cdk-lib/aws-cloudwatch";
import type { Alias, IFunction } from "aws-cdk-lib/aws-lambda";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { OperationsConfig } from "../app/operations-config.ts";
import { METRICS } from "../manifest/index.ts";

/** Alarm thresholds from the scalability guide. */
export const ALARM_THRESHOLDS = {
  /** Visible messages in a work queue. */
  queueDepth: 100,
  /** p99 of workflow duration and of the API's latency, in milliseconds. */
  p99Ms: 1000,
  /** Failed executions, activity attempts, queue records and Lambda invocations, in percent. */
  errorRatePercent: 0.5,
  /** Messages in a dead-letter queue. */
  deadLetters: 0,
} as const;

/** Graphs and alert alarms: one-minute periods. */
export const PERIOD = Duration.minutes(1);
/** The guide's alarms: five-minute periods. */
export const ALARM_PERIOD = Duration.minutes(5);

export interface ObservabilityProps {
  readonly app: string;
  readonly workflows: readonly string[];
  readonly functions: {
    readonly engine: IFunction;
    readonly api: IFunction;
    readonly deadLetter: IFunction;
    readonly reconciler: IFunction;
    /** Worker pool → its worker function. */
    readonly workers: ReadonlyMap<string, IFunction>;
  };
  readonly queues: readonly {
    readonly name: string;
    /** Whose queue: the engine's (transitions) or the workers' (activities-<pool>). */
    readonly role: "engine" | "workers";
    readonly queue: IQueue;
    readonly deadLetter: IQueue;
  }[];
  readonly httpApi: HttpApi;
  /** Every alarm publishes here (in ALARM and back to OK). */
  readonly alarmTopic: ITopic;
  /** cascade.yaml's alerts, alarm thresholds and queue-depth scaling. */
  readonly operations: OperationsConfig;
  /** The functions with provisioned concurrency (a `live` alias), which alerts may scale. */
  readonly provisioned: readonly ProvisionedTarget[];
}

/** A function's `live` alias with provisioned concurrency between `min` and `max`. */
export interface ProvisionedTarget {
  /** For construct ids: `engine`, `api`, `worker-us-east`. */
  readonly name: string;
  readonly role: "api" | "engine" | "workers";
  readonly alias: Alias;
  readonly min: number;
  readonly max: number;
  /** The queue that feeds it (none for the api). */
  readonly queue?: string;
}

/** Every function of the app, named for the widgets and alarms. */
export function namedFunctions(props: ObservabilityProps): { name: string; fn: IFunction }[] {
  return [
    { name: "engine", fn: props.functions.engine },
    { name: "api", fn: props.functions.api },
    { name: "dead-letter", fn: props.functions.deadLetter },
    { name: "reconciler", fn: props.functions.reconciler },
    ...[...props.functions.workers].map(([pool, fn]) => ({ name: `worker-${pool}`, fn })),
  ];
}

/** Cascade's own alarm metrics, from the EMF lines (per-app roll-ups). */
export function cascadeMetrics(app: string, period: Duration) {
  const m = (metricName: string, statistic: string, dims: Record<string, string> = {}) =>
    new Metric({
      namespace: METRICS.namespace,
      metricName,
      dimensionsMap: { app, ...dims },
      statistic,
      period,
    });
  return {
    workflowErrorRate: new MathExpression({
      expression: "100 * failed / MAX([failed + succeeded + cancelled, 1])",
      usingMetrics: {
        failed: m("WorkflowOutcome", "Sum", { outcome: "failed" }),
        succeeded: m("WorkflowOutcome", "Sum", { outcome: "succeeded" }),
        cancelled: m("WorkflowOutcome", "Sum", { outcome: "cancelled" }),
      },
      label: "failed executions (%)",
      period,
    }),
    activityErrorRate: new MathExpression({
      expression: "100 * errors / MAX([attempts, 1])",
      usingMetrics: {
        errors: m("ActivityErrors", "Sum"),
        attempts: m("ActivityErrors", "SampleCount"),
      },
      label: "failed activity attempts (%)",
      period,
    }),
    failedRecordRate: new MathExpression({
      expression: "100 * failedRecords / MAX([records, 1])",
      usingMetrics: {
        failedRecords: m("FailedRecords", "Sum"),
        records: m("BatchRecords", "Sum"),
      },
      label: "failed records (%)",
      period,
    }),
    workflowP99: m("WorkflowDuration", "p99"),
    // Not API Gateway's Latency: that includes every ?wait= and sync trigger's wait, the
    // workflow's own time (a load test of 28 s waits would hold the alarm in ALARM).
    apiP99: m("ApiLatency", "p99"),
  };
}
