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
import type { Alarm, Dashboard } from "aws-cdk-lib/aws-cloudwatch";
import type { Construct } from "constructs";
import { addAlarms } from "./alarms.ts";
import { addDashboard } from "./dashboard.ts";
import type { ObservabilityProps } from "./observability-props.ts";
import { addScaling } from "./scaling.ts";

export {
  ALARM_THRESHOLDS,
  type ObservabilityProps,
  type ProvisionedTarget,
} from "./observability-props.ts";

/** Creates the dashboard, the alarms, the alerts and the scaling policies. */
export function addObservability(
  scope: Construct,
  props: ObservabilityProps,
): { dashboard: Dashboard; alarms: Alarm[] } {
  const dashboard = addDashboard(scope, props);
  const { alarms, alarm } = addAlarms(scope, props);
  addScaling(scope, props, alarm);
  return { dashboard, alarms };
}
