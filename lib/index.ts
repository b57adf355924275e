/**
 * `cascade-workflows`: the activity author's kit. The contract an activity is written
 * against (its context, its cache, its errors), and `defineActivity` for typed inputs.
 * The CDK construct is `cascade-workflows/infra`, the testing kit `cascade-workflows/testing`.
 */
export {
  ACTIVITY_MARK,
  type ActivityCache,
  type ActivityContext,
  type ActivityFunction,
  type ActivityLogger,
  activitiesOf,
  type DefinedActivity,
  defineActivity,
  isDefinedActivity,
  NonRetryableError,
  nonRetryable,
  RetryAfterError,
  retryAfter,
} from "./core/activity.ts";
export type { WorkflowError } from "./core/engine/index.ts";
export type { JsonValue } from "./core/expr/index.ts";
