/**
 * Provisioned concurrency that scales: target tracking on queue depth
 * (`target_queue_depth`), and cascade.yaml's `alerts` as alarms, those with a scale
 * action driving an Application Auto Scaling step policy on the role's provisioned
 * concurrency.
 */
import { Duration } from "aws-cdk-lib";
import {
  AdjustmentType,
  ScalableTarget,
  ServiceNamespace,
  StepScalingAction,
} from "aws-cdk-lib/aws-applicationautoscaling";
import { ComparisonOperator, type IMetric } from "aws-cdk-lib/aws-cloudwatch";
import { ApplicationScalingAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { Construct } from "constructs";
import type { AlarmFactory } from "./alarms.ts";
import {
  cascadeMetrics,
  type ObservabilityProps,
  PERIOD,
  type ProvisionedTarget,
} from "./observability-props.ts";

/** Creates the scaling policies and the alerts' alarms. */
export function addScaling(scope: Construct, props: ObservabilityProps, alarm: AlarmFactory): void {
  const { app, operations } = props;
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
}
