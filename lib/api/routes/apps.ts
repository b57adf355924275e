/** `GET /v1/apps` and `GET /v1/apps/{app}`: the app this API serves. */
import type { RouteGroup } from "../env.ts";

export const appRoutes: RouteGroup = (env) => {
  const { deps } = env;
  return [
    {
      method: "GET",
      path: "/v1/apps",
      operationId: "listApps",
      query: [],
      run: async () => ({
        status: 200,
        body: {
          apps: [
            {
              name: deps.app,
              workflows: deps.definitions.names(),
              links: { self: `/v1/apps/${encodeURIComponent(deps.app)}` },
            },
          ],
        },
      }),
    },
    {
      method: "GET",
      path: "/v1/apps/{app}",
      operationId: "getApp",
      query: [],
      run: async (ctx) => {
        const app = env.checkApp(ctx);
        return {
          status: 200,
          body: {
            name: app,
            workflows: deps.definitions.names(),
            tenant: ctx.tenant,
            // The tenants a caller may name with X-Cascade-Tenant: the local stack only
            // (on AWS the identity names the tenant, and one tenant never sees the others).
            ...(deps.local && deps.config ? { tenants: deps.config.tenants.names } : {}),
            triggers: (deps.config?.triggers ?? []).map((t) => ({
              method: t.method,
              path: t.path,
              workflow: t.workflow,
              mode: t.mode,
              ...(t.mode === "sync" ? { timeoutSeconds: t.timeoutSeconds } : {}),
            })),
            links: {
              workflows: `/v1/apps/${encodeURIComponent(app)}/workflows`,
              executions: `/v1/apps/${encodeURIComponent(app)}/executions`,
            },
          },
        };
      },
    },
  ];
};
