/** `POST …/executions/{id}/redrive`: run an ended execution again from a state it entered. */
import type { JsonValue } from "../../core/expr/index.ts";
import { RedriveError, StartError } from "../../runtime/runtime.ts";
import type { RouteGroup } from "../env.ts";
import { HttpError } from "../errors.ts";
import { bodyObject } from "../request.ts";
import { inputPath, links, summary } from "../views.ts";

export const redriveRoutes: RouteGroup = (env) => [
  {
    method: "POST",
    path: "/v1/apps/{app}/executions/{id}/redrive",
    operationId: "redriveExecution",
    query: [],
    run: async (ctx) => {
      env.checkApp(ctx);
      const body = bodyObject(ctx, {
        from_state: "string",
        thread: "string",
        input: "json",
        id: "string",
      });
      const view = await env.findExecution(ctx);
      const id = body.id as string | undefined;
      if (id !== undefined) env.checkId(id);
      const original = view.header.executionId;
      let redriven: Awaited<ReturnType<typeof env.deps.runtime.redrive>>;
      try {
        redriven = await env.deps.runtime.redrive(ctx.tenant, original, {
          ...(body.from_state === undefined ? {} : { fromState: body.from_state as string }),
          ...(body.thread === undefined ? {} : { thread: body.thread as string }),
          ...(body.input === undefined ? {} : { input: body.input as JsonValue }),
          ...(id === undefined ? {} : { id }),
        });
      } catch (error) {
        if (error instanceof RedriveError || error instanceof StartError)
          throw new HttpError(error.code, error.message, {
            ...(error.problems.length > 0
              ? {
                  problems: error.problems.map((p) => ({
                    path: inputPath(p.path),
                    message: p.message,
                  })),
                }
              : {}),
          });
        throw error;
      }
      if (!redriven)
        throw new HttpError(
          "UNKNOWN_EXECUTION",
          `no execution '${original}' in app '${env.deps.app}'`,
        );
      return {
        status: redriven.created ? 201 : 200,
        body: { ...summary(redriven.record), redriveOf: original },
        headers: { location: links(env.deps.app, redriven.executionId).self },
      };
    },
  },
];
