/**
 * The scalability guide's alarms, each notifying the alarm topic in ALARM and back to OK:
 * queue depth, a dead-letter queue not empty, error rate of failed executions, failed
 * activity attempts and failed queue records (and Lambda crashes), p99 of workflow
 * duration and of the API's latency.
 */
import type { Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import {
  ALARM_PERIOD,
  ALARM_THRESHOLDS,
  cascadeMetrics,
  namedFunctions,
  type ObservabilityProps,
} from "./observability-props.ts";

/** Makes one alarm that notifies the alarm topic (and records it). */
export type AlarmFactory = (
  id: string,
  metric: IMetric,
  threshold: number,
  description: string,
  options?: { operator?: ComparisonOperator; evaluationPeriods?: number },
) => Alarm;

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

/** Creates the guide's alarms; returns them and the factory the alerts use. */
export function addAlarms(
  scope: Construct,
  props: ObservabilityProps,
): { alarms: Alarm[]; alarm: AlarmFactory } {
  const { app } = props;
  const fns = namedFunctions(props);
  const alarms: Alarm[] = [];
  const alarmActions = [new SnsAction(props.alarmTopic)];
  const alarm: AlarmFactory = (id, metric, threshold, description, options = {}) => {
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
    own.apiP99,
    ALARM_THRESHOLDS.p99Ms,
    `p99 of the HTTP API's own latency (less waits for an execution's end) is above ${ALARM_THRESHOLDS.p99Ms} ms`,
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
  return { alarms, alarm };
}
