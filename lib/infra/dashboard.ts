/**
 * The app's CloudWatch dashboard: workflows started and ended, workflow, activity and
 * transition latency percentiles, queue and dead-letter depth, the cache's hit rate,
 * Lambda errors and throttles, the HTTP API's requests and latency.
 */
import { Duration } from "aws-cdk-lib";
import {
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
} from "aws-cdk-lib/aws-cloudwatch";
import type { Construct } from "constructs";
import { METRICS } from "../manifest/index.ts";
import { namedFunctions, type ObservabilityProps, PERIOD } from "./observability-props.ts";

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

/** Creates the dashboard. */
export function addDashboard(scope: Construct, props: ObservabilityProps): Dashboard {
  const { app } = props;
  const { emitted } = METRICS;
  const fns = namedFunctions(props);
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
      title: "HTTP API latency p50 / p99 (ms): with waits (API Gateway), the API's own",
      width: 12,
      left: [
        ...["p50", "p99"].map((p) =>
          props.httpApi.metricLatency({ period: PERIOD, statistic: p, label: `${p} with waits` }),
        ),
        ...["p50", "p99"].map(
          (p) =>
            new Metric({
              namespace: METRICS.namespace,
              metricName: "ApiLatency",
              dimensionsMap: { app },
              statistic: p,
              period: PERIOD,
              label: `${p} own`,
            }),
        ),
      ],
    }),
  );
  return dashboard;
}
