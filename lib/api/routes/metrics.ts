/** `GET /v1/apps/{app}/metrics/...`: what `cascade metrics` prints (see ../metrics-routes.ts). */
import type { RouteGroup } from "../env.ts";
import { metricsRoutes } from "../metrics-routes.ts";

export const metricRoutes: RouteGroup = (env) =>
  metricsRoutes({
    app: env.deps.app,
    metrics: env.deps.metrics,
    workflows: () => env.deps.definitions.names(),
    clock: env.deps.clock,
  });
