/** Workflows: list, describe (with the definition's graph), and start an execution of one. */
import { workflowGraph } from "../../core/cdl/graph.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import { MAX_WAIT_SECONDS } from "../deps.ts";
import type { RouteGroup } from "../env.ts";
import { HttpError } from "../errors.ts";
import { bodyObject, integerParam } from "../request.ts";

/** A definition's hash: sha256, hex. */
const HASH = /^[0-9a-f]{64}$/;

import { startExecution } from "../start.ts";

export const workflowRoutes: RouteGroup = (env) => {
  const { definitions } = env.deps;
  return [
    {
      method: "GET",
      path: "/v1/apps/{app}/workflows",
      operationId: "listWorkflows",
      query: [],
      run: async (ctx) => {
        const app = env.checkApp(ctx);
        return {
          status: 200,
          body: {
            items: definitions.names().map((name) => {
              const { hash, definition } = definitions.current(name);
              return {
                name,
                hash,
                ...(definition.description === undefined
                  ? {}
                  : { description: definition.description }),
                links: {
                  self: `/v1/apps/${encodeURIComponent(app)}/workflows/${encodeURIComponent(name)}`,
                  executions: `/v1/apps/${encodeURIComponent(app)}/workflows/${encodeURIComponent(name)}/executions`,
                },
              };
            }),
          },
        };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/workflows/{workflow}",
      operationId: "getWorkflow",
      query: ["version"],
      run: async (ctx) => {
        env.checkApp(ctx);
        const name = ctx.params.workflow ?? "";
        const current = env.currentWorkflow(name);
        const asked = ctx.query.version;
        if (asked !== undefined && !HASH.test(asked))
          throw new HttpError(
            "INVALID_QUERY",
            "version is a definition's hash (64 hex digits, as `definitionHash` in an execution)",
          );
        const version = asked === undefined ? current : await definitions.version(name, asked);
        if (!version)
          throw new HttpError(
            "UNKNOWN_WORKFLOW",
            `workflow '${name}' has no version ${asked} (the current one is ${current.hash})`,
          );
        const { hash, source, definition } = version;
        return {
          status: 200,
          body: {
            name: definition.name,
            hash,
            ...(definition.description === undefined
              ? {}
              : { description: definition.description }),
            ...(definition.timeoutMs === undefined ? {} : { timeoutMs: definition.timeoutMs }),
            inputSchema: definition.inputSchema ?? null,
            startAt: definition.flow.startAt,
            states: [...definition.flow.states.values()].map((s) => ({
              name: s.name,
              type: s.type,
            })),
            graph: workflowGraph(definition),
            source,
            current: hash === current.hash,
          },
        };
      },
    },
    {
      method: "POST",
      path: "/v1/apps/{app}/workflows/{workflow}/executions",
      operationId: "startExecution",
      query: ["wait"],
      run: async (ctx) => {
        env.checkApp(ctx);
        const wait = integerParam(ctx, "wait", 0, MAX_WAIT_SECONDS);
        const workflow = ctx.params.workflow ?? "";
        env.currentWorkflow(workflow);
        const body = bodyObject(ctx, { input: "json", id: "string" });
        return startExecution(
          env,
          ctx.tenant,
          workflow,
          (body.input ?? {}) as JsonValue,
          body.id as string | undefined,
          wait,
        );
      },
    },
  ];
};
