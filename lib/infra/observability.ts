/**
 * The app's CloudWatch dashboard and alarms. Cascade's own metrics come from the
 * runtime's Embedded Metric Format lines (names in `METRICS` of lib/manifest);
 * queue depth and age from SQS; errors, throttles and durations from Lambda.
 * Alarms follow the scalability guide — queue depth > 100, p99 of workflow duration and
 * of the API's latency > 1 s, error rate > 0.5 % of failed executions, failed activity
 * attempts and failed queue records (and Lambda crashes), a dead-letter queue not
 * empty — plus cascade.yaml's `alerts`; every alarm notifies the alarm topic, and an
 * alert with a scale action steps provisioned concurrency.
 */
import { Duration } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  AdjustmentType,
  ScalableTarget,
  ServiceNamespace,
  StepScalingAction,
} from "aws-cdk-lib/aws-applicationautoscaling";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { ApplicationScalingAction, SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { Alias, IFunction } from "aws-cdk-lib/aws-lambda";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
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

const PERIOD = Duration.minutes(1);
const ALARM_PERIOD = Duration.minutes(5);

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

/** Cascade's own alarm metrics, from the EMF lines (per-app roll-ups). */
function cascadeMetrics(app: string, period: Duration) {
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
  };
}

/** A SEARCH over the Cascade namespace for one metric of this app, one line per dimension set. */
function search(
  app: string,
  metric: string,
  dimensions: readonly string[],
  statistic: string,
  label: string,
  filter = "",
): MathExpression {
  const schema = [METRICS.namespace, ...[...dimensions].sort()].join(",");
  return new MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metric}" app="${app}"${filter}', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label,
    period: PERIOD,
  });
}

/** A total over every workflow of this app (SUM of a SEARCH). */
function total(
  app: string,
  metric: string,
  dimensions: readonly string[],
  label: string,
  filter = "",
): MathExpression {
  const schema = [METRICS.namespace, ...[...dimensions].sort()].join(",");
  return new MathExpression({
    expression: `SUM(SEARCH('{${schema}} MetricName="${metric}" app="${app}"${filter}', 'Sum', ${PERIOD.toSeconds()}))`,
    usingMetrics: {},
    label,
    period: PERIOD,
  });
}

function errorRate(fn: IFunction, period: Duration): MathExpression {
  return new MathExpression({
    expression: "100 * errors / MAX([invocations, 1])",
    usingMetrics: {
      errors: fn.metricErrors({ period, statistic: "Sum" }),
      invocations: fn.metricInvocations({ period, statistic: "Sum" }),
    },
    label: "error rate (%)",
    period,
  });
}

/** Creates the dashboard and the alarms. */
export function addObservability(
  scope: Construct,
  props: ObservabilityProps,
): { dashboard: Dashboard; alarms: Alarm[] } {
  const { app } = props;
  const { emitted } = METRICS;
  const fns = [
    { name: "engine", fn: props.functions.engine },
    { name: "api", fn: props.functions.api },
    { name: "dead-letter", fn: props.functions.deadLetter },
    { name: "reconciler", fn: props.functions.reconciler },
    ...[...props.functions.workers].map(([pool, fn]) => ({ name: `worker-${pool}`, fn })),
  ];

  const dashboard = new Dashboard(scope, "Dashboard", {
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new TextWidget({
      markdown: `# Cascade: ${app}\nWorkflows: ${props.workflows.join(", ") || "(none)"}`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: "Workflows started / succeeded / failed",
      width: 12,
      left: [
        total(app, "WorkflowStarted", emitted.WorkflowStarted.dimensions, "started"),
        total(
          app,
          "WorkflowOutcome",
          emitted.WorkflowOutcome.dimensions,
          "succeeded",
          ' outcome="succeeded"',
        ),
        total(
          app,
          "WorkflowOutcome",
          emitted.WorkflowOutcome.dimensions,
          "failed",
          ' outcome="failed"',
        ),
        total(
          app,
          "WorkflowOutcome",
          emitted.WorkflowOutcome.dimensions,
          "cancelled",
          ' outcome="cancelled"',
        ),
      ],
    }),
    new GraphWidget({
      title: "Workflow duration p50 / p95 / p99 (ms)",
      width: 12,
      left: ["p50", "p95", "p99"].map((p) =>
        search(app, "WorkflowDuration", emitted.WorkflowDuration.dimensions, p, p),
      ),
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: "Activity duration p50 / p95 / p99 (ms)",
      width: 12,
      left: ["p50", "p95", "p99"].map((p) =>
        search(app, "ActivityDuration", emitted.ActivityDuration.dimensions, p, p),
      ),
    }),
    new GraphWidget({
      title: "Transition latency (ms) and engine duration per batch",
      width: 12,
      left: ["p50", "p99"].map((p) =>
        search(app, "TransitionLatency", emitted.TransitionLatency.dimensions, p, `latency ${p}`),
      ),
      right: ["p50", "p99"].map((p) =>
        props.functions.engine.metricDuration({
          statistic: p,
          period: PERIOD,
          label: `engine ${p}`,
        }),
      ),
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: "Queue depth and oldest message age",
      width: 12,
      left: props.queues.map((q) =>
        q.queue.metricApproximateNumberOfMessagesVisible({
          period: PERIOD,
          label: `${q.name} depth`,
        }),
      ),
      right: props.queues.map((q) =>
        q.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, label: `${q.name} age (s)` }),
      ),
    }),
    new GraphWidget({
      title: "Dead-letter queue depth",
      width: 12,
      left: props.queues.map((q) =>
        q.deadLetter.metricApproximateNumberOfMessagesVisible({
          period: PERIOD,
          label: `${q.name} DLQ`,
        }),
      ),
    }),
  );
  const hits = new Metric({
    namespace: METRICS.namespace,
    metricName: "CacheHits",
    dimensionsMap: { app },
    statistic: "Sum",
    period: PERIOD,
  });
  const misses = new Metric({
    namespace: METRICS.namespace,
    metricName: "CacheMisses",
    dimensionsMap: { app },
    statistic: "Sum",
    period: PERIOD,
  });
  dashboard.addWidgets(
    new GraphWidget({
      title: "Activity cache hit rate (%)",
      width: 8,
      left: [
        new MathExpression({
          expression: "100 * hits / MAX([hits + misses, 1])",
          usingMetrics: { hits, misses },
          label: "hit rate",
          period: PERIOD,
        }),
      ],
    }),
    new GraphWidget({
      title: "Lambda errors",
      width: 8,
      left: fns.map(({ name, fn }) => fn.metricErrors({ period: PERIOD, label: name })),
    }),
    new GraphWidget({
      title: "Lambda throttles",
      width: 8,
      left: fns.map(({ name, fn }) => fn.metricThrottles({ period: PERIOD, label: name })),
    }),
  );

  dashboard.addWidgets(
    new GraphWidget({
      title: "HTTP API requests, 4xx and 5xx",
      width: 12,
      left: [
        props.httpApi.metricCount({ period: PERIOD, label: "requests" }),
        props.httpApi.metricClientError({ period: PERIOD, label: "4xx" }),
        props.httpApi.metricServerError({ period: PERIOD, label: "5xx" }),
      ],
    }),
    new GraphWidget({
      title: "HTTP API latency p50 / p99 (ms)",
      width: 12,
      left: ["p50", "p99"].map((p) =>
        props.httpApi.metricLatency({ period: PERIOD, statistic: p, label: p }),
      ),
    }),
  );

  const alarms: Alarm[] = [];
  const alarmActions = [new SnsAction(props.alarmTopic)];
  const alarm = (
    id: string,
    metric: IMetric,
    threshold: number,
    description: string,
    options: { operator?: ComparisonOperator; evaluationPeriods?: number } = {},
  ): Alarm => {
    const created = new Alarm(scope, id, {
      metric,
      threshold,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: options.operator ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `Cascade ${app}: ${description}`,
    });
    created.addAlarmAction(...alarmActions);
    created.addOkAction(...alarmActions);
    alarms.push(created);
    return created;
  };
  const { operations } = props;
  for (const q of props.queues) {
    const threshold = operations.queueDepthAlarm[q.role];
    alarm(
      `QueueDepth-${q.name}`,
      q.queue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: "Maximum",
      }),
      threshold,
      `more than ${threshold} messages wait in ${q.name}: consumers are behind`,
    );
    alarm(
      `DeadLetters-${q.name}`,
      q.deadLetter.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: "Maximum",
      }),
      ALARM_THRESHOLDS.deadLetters,
      `the dead-letter queue of ${q.name} is not empty`,
    );
  }
  alarm(
    "DeadLettersHandled",
    props.functions.deadLetter.metricInvocations({ period: ALARM_PERIOD, statistic: "Sum" }),
    ALARM_THRESHOLDS.deadLetters,
    "messages reached a dead-letter queue and failed their executions",
  );
  const own = cascadeMetrics(app, ALARM_PERIOD);
  alarm(
    "WorkflowErrorRate",
    own.workflowErrorRate,
    ALARM_THRESHOLDS.errorRatePercent,
    `more than ${ALARM_THRESHOLDS.errorRatePercent}% of ended executions failed`,
  );
  alarm(
    "ActivityErrorRate",
    own.activityErrorRate,
    ALARM_THRESHOLDS.errorRatePercent,
    `more than ${ALARM_THRESHOLDS.errorRatePercent}% of activity attempts failed`,
  );
  alarm(
    "FailedRecordRate",
    own.failedRecordRate,
    ALARM_THRESHOLDS.errorRatePercent,
    `more than ${ALARM_THRESHOLDS.errorRatePercent}% of queue records failed (reported for redelivery)`,
  );
  alarm(
    "WorkflowP99",
    own.workflowP99,
    ALARM_THRESHOLDS.p99Ms,
    `p99 of workflow duration (start to end) is above ${ALARM_THRESHOLDS.p99Ms} ms`,
  );
  alarm(
    "ApiP99",
    props.httpApi.metricLatency({ period: ALARM_PERIOD, statistic: "p99" }),
    ALARM_THRESHOLDS.p99Ms,
    `p99 of the HTTP API's latency is above ${ALARM_THRESHOLDS.p99Ms} ms`,
  );
  for (const { name, fn } of fns) {
    if (name === "dead-letter") continue;
    alarm(
      `ErrorRate-${name}`,
      errorRate(fn, ALARM_PERIOD),
      ALARM_THRESHOLDS.errorRatePercent,
      `more than ${ALARM_THRESHOLDS.errorRatePercent}% of ${name} invocations fail (crashes and timeouts)`,
    );
  }

  // Provisioned concurrency that scales: on queue depth (target_queue_depth) and by the alerts' steps.
  const targets = new Map<ProvisionedTarget, ScalableTarget>();
  const scalable = (p: ProvisionedTarget): ScalableTarget => {
    let found = targets.get(p);
    if (!found) {
      found = new ScalableTarget(scope, `Scaling-${p.name}`, {
        serviceNamespace: ServiceNamespace.LAMBDA,
        scalableDimension: "lambda:function:ProvisionedConcurrency",
        resourceId: `function:${p.alias.lambda.functionName}:${p.alias.aliasName}`,
        minCapacity: p.min,
        maxCapacity: Math.max(p.min, p.max),
      });
      found.node.addDependency(p.alias);
      targets.set(p, found);
    }
    return found;
  };
  const queuesOf = (role: "api" | "engine" | "workers") => {
    if (role === "api") return [];
    const activityQueues = props.queues.filter((q) => q.role === "workers");
    return role === "engine" || activityQueues.length === 0
      ? props.queues.filter((q) => q.role === "engine")
      : activityQueues;
  };
  for (const p of props.provisioned) {
    const depth = p.role === "api" ? undefined : operations.targetQueueDepth[p.role];
    const queue = props.queues.find((q) => q.name === p.queue);
    if (depth === undefined || !queue) continue;
    scalable(p).scaleToTrackMetric("TargetQueueDepth", {
      targetValue: depth,
      customMetric: queue.queue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: "Average",
      }),
    });
  }
  const OPERATORS = {
    ">": ComparisonOperator.GREATER_THAN_THRESHOLD,
    ">=": ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "<": ComparisonOperator.LESS_THAN_THRESHOLD,
    "<=": ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
  } as const;
  const alertMetrics = cascadeMetrics(app, PERIOD);
  for (const alert of operations.alerts) {
    const role = alert.step?.role;
    const watched: { suffix: string; metric: IMetric; queue?: string }[] =
      alert.metric === "queue_depth"
        ? (role ? queuesOf(role) : props.queues).map((q) => ({
            suffix: `-${q.name}`,
            queue: q.name,
            metric: q.queue.metricApproximateNumberOfMessagesVisible({
              period: PERIOD,
              statistic: "Maximum",
            }),
          }))
        : alert.metric === "dlq_depth"
          ? props.queues.map((q) => ({
              suffix: `-${q.name}`,
              queue: q.name,
              metric: q.deadLetter.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                statistic: "Maximum",
              }),
            }))
          : [
              {
                suffix: "",
                metric:
                  alert.metric === "error_rate"
                    ? alertMetrics.workflowErrorRate
                    : alertMetrics.workflowP99,
              },
            ];
    for (const w of watched) {
      const created = alarm(
        `Alert-${alert.name}${w.suffix}`,
        w.metric,
        alert.threshold,
        `alert ${alert.name}: ${alert.metric}${w.queue ? ` of ${w.queue}` : ""} ${alert.operator} ${alert.threshold} for ${alert.forMinutes}m${alert.step ? ` (${alert.action} ${alert.step.change > 0 ? "+" : ""}${alert.step.change} ${alert.step.role})` : ""}`,
        { operator: OPERATORS[alert.operator], evaluationPeriods: alert.forMinutes },
      );
      if (!alert.step) continue;
      const step = alert.step;
      // The functions this step scales: the role's, fed by the watched queue when there is one.
      for (const p of props.provisioned.filter(
        (x) => x.role === step.role && (w.queue === undefined || x.queue === w.queue),
      )) {
        const action = new StepScalingAction(scope, `Alert-${alert.name}${w.suffix}-${p.name}`, {
          scalingTarget: scalable(p),
          adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
          cooldown: Duration.minutes(alert.forMinutes),
        });
        const above = alert.operator === ">" || alert.operator === ">=";
        action.addAdjustment({
          adjustment: step.change,
          ...(above ? { lowerBound: 0 } : { upperBound: 0 }),
        });
        created.addAlarmAction(new ApplicationScalingAction(action));
      }
    }
  }
  return { dashboard, alarms };
}
