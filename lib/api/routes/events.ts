/** `POST …/executions/{id}/events`: an external event for a waiting state. */
import type { JsonValue } from "../../core/expr/index.ts";
import { EXECUTION_ID_PATTERN } from "../../runtime/runtime.ts";
import type { RouteGroup } from "../env.ts";
import { HttpError, type Problem } from "../errors.ts";
import { bodyObject } from "../request.ts";
import { links } from "../views.ts";

const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export const eventRoutes: RouteGroup = (env) => [
  {
    method: "POST",
    path: "/v1/apps/{app}/executions/{id}/events",
    operationId: "sendEvent",
    query: [],
    run: async (ctx) => {
      env.checkApp(ctx);
      const body = bodyObject(ctx, { event: "string", payload: "json", id: "string" }, ["event"]);
      const event = body.event as string;
      const problems: Problem[] = [];
      if (!EVENT_NAME_PATTERN.test(event))
        problems.push({ path: "body.event", message: "must be 1-128 letters, digits, _ . : -" });
      const eventId = body.id as string | undefined;
      if (eventId !== undefined && !EXECUTION_ID_PATTERN.test(eventId))
        problems.push({ path: "body.id", message: "must be 1-128 letters, digits, _ . : -" });
      if (problems.length > 0)
        throw new HttpError(
          "INVALID_BODY",
          problems.map((p) => `${p.path} ${p.message}`).join("; "),
          { problems },
        );
      const view = await env.findExecution(ctx);
      const id = view.header.executionId;
      const payload = (body.payload ?? null) as JsonValue;
      const delivered =
        view.thread.status === "running" &&
        (await env.deps.runtime.signal(
          ctx.tenant,
          id,
          event,
          payload,
          ...(eventId === undefined ? [] : [eventId]),
        ));
      if (!delivered)
        throw new HttpError(
          "EXECUTION_ENDED",
          `execution '${id}' has already ended (${view.thread.status})`,
        );
      return { status: 202, body: { id, event, accepted: true, links: links(env.deps.app, id) } };
    },
  },
];
