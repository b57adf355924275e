/**
 * The route groups, in matching order. A new group is one file here exporting a
 * `RouteGroup`, and one line in this list (docs/openapi.yaml lists its routes too).
 */
import type { RouteGroup } from "../env.ts";
import { appRoutes } from "./apps.ts";
import { eventRoutes } from "./events.ts";
import { executionRoutes } from "./executions.ts";
import { metricRoutes } from "./metrics.ts";
import { redriveRoutes } from "./redrive.ts";
import { validateRoutes } from "./validate.ts";
import { workflowRoutes } from "./workflows.ts";

export { triggerRoutes } from "./triggers.ts";

export const ROUTE_GROUPS: readonly RouteGroup[] = [
  appRoutes,
  workflowRoutes,
  executionRoutes,
  eventRoutes,
  redriveRoutes,
  validateRoutes,
  metricRoutes,
];
