/**
 * The app's CloudWatch dashboard and alarms. Cascade's own metrics come from the
 * runtime's Embedded Metric Format lines (names in `METRICS` of lib/manifest);
 * queue depth and age from SQS; errors, throttles and durations from Lambda.
 * Alarms follow the scalability guide: queue depth > 100, p99 > 1 s,
 * error rate > 0.5 %, a dead-letter queue not empty.
 */
import { Duration } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
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
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { METRICS } from "../manifest/index.ts";

/** Alarm thresholds from the scalability guide. */
export const ALARM_THRESHOLDS = {
  /** Visible messages in a work queue. */
  queueDepth: 100,
  /** p99 of the engine's duration per batch, in milliseconds. */
  p99Ms: 1000,
  /** Errors per invocation, in percent. */
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
    /** Region → its worker function. */
    readonly workers: ReadonlyMap<string, IFunction>;
  };
  readonly queues: readonly {
    readonly name: string;
    readonly queue: IQueue;
    readonly deadLetter: IQueue;
  }[];
  readonly httpApi: HttpApi;
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
    ...[...props.functions.workers].map(([region, fn]) => ({ name: `worker-${region}`, fn })),
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
  const alarm = (id: string, metric: IMetric, threshold: number, description: string): void => {
    alarms.push(
      new Alarm(scope, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `Cascade ${app}: ${description}`,
      }),
    );
  };
  for (const q of props.queues) {
    alarm(
      `QueueDepth-${q.name}`,
      q.queue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: "Maximum",
      }),
      ALARM_THRESHOLDS.queueDepth,
      `more than ${ALARM_THRESHOLDS.queueDepth} messages wait in ${q.name}: consumers are behind`,
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
  alarm(
    "EngineP99",
    props.functions.engine.metricDuration({ period: ALARM_PERIOD, statistic: "p99" }),
    ALARM_THRESHOLDS.p99Ms,
    `p99 of the engine's duration is above ${ALARM_THRESHOLDS.p99Ms} ms`,
  );
  for (const { name, fn } of fns) {
    if (name === "dead-letter") continue;
    alarm(
      `ErrorRate-${name}`,
      errorRate(fn, ALARM_PERIOD),
      ALARM_THRESHOLDS.errorRatePercent,
      `more than ${ALARM_THRESHOLDS.errorRatePercent}% of ${name} invocations fail`,
    );
  }
  return { dashboard, alarms };
}
