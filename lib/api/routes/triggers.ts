/** The app's HTTP triggers (`triggers` in cascade.yaml): each starts its workflow. */
import type { HttpTrigger } from "../../app/config.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import type { RouteEnv } from "../env.ts";
import { parseJson } from "../request.ts";
import type { Route } from "../router.ts";
import { startExecution } from "../start.ts";

/** One route per trigger, matched on its exact path. */
export function triggerRoutes(env: RouteEnv): Route[] {
  return (env.deps.config?.triggers ?? []).map((trigger: HttpTrigger): Route => {
    const fromQuery = trigger.method === "GET" || trigger.method === "DELETE";
    return {
      method: trigger.method,
      path: trigger.path,
      operationId: `trigger:${trigger.method} ${trigger.path}`,
      // GET and DELETE triggers take their query string as the input.
      query: fromQuery ? ["*"] : [],
      run: async (ctx) => {
        const input: JsonValue = fromQuery
          ? { ...ctx.query }
          : ((parseJson(ctx) ?? {}) as JsonValue);
        const key = ctx.event.headers?.["idempotency-key"];
        return startExecution(
          env,
          ctx.tenant,
          trigger.workflow,
          input,
          key,
          trigger.mode === "sync" ? trigger.timeoutSeconds : undefined,
        );
      },
    };
  });
}
