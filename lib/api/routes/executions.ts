/** Executions: list, describe, history and cancel. */
import type { ExecutionStatus } from "../../core/ports.ts";
import { costOf } from "../../core/prices.ts";
import {
  describeExecution,
  listExecutions,
  MAX_ANSWER_VALUE_BYTES,
  readHistory,
} from "../../runtime/queries.ts";
import { unwrapCursor, withCursor, wrapCursor } from "../cursor.ts";
import { HISTORY_LIMIT, LIST_LIMIT, MAX_WAIT_SECONDS } from "../deps.ts";
import type { RouteGroup } from "../env.ts";
import { HttpError } from "../errors.ts";
import { bodyObject, integerParam, timeParam } from "../request.ts";
import { waitForEnd } from "../start.ts";
import { details, historyEvent, links, summary } from "../views.ts";

/** The longest cancel reason, in characters (it is kept in the execution's history). */
export const MAX_REASON_CHARS = 1024;

/**
 * Items of an execution `GET` sums the cost of at most (a Map of 100,000 items is not
 * read whole on every poll; past it, `cost.partial`).
 */
export const COST_MAX_ITEMS = 2_000;

const STATUSES: readonly ExecutionStatus[] = ["running", "succeeded", "failed", "cancelled"];

export const executionRoutes: RouteGroup = (env) => {
  const { store, runtime } = env.deps;
  return [
    {
      method: "GET",
      path: "/v1/apps/{app}/executions",
      operationId: "listExecutions",
      query: ["workflow", "status", "startedAfter", "startedBefore", "limit", "cursor"],
      run: async (ctx) => {
        const app = env.checkApp(ctx);
        const workflow = ctx.query.workflow;
        const status = ctx.query.status;
        if (status !== undefined && !STATUSES.includes(status as ExecutionStatus))
          throw new HttpError(
            "INVALID_QUERY",
            `status must be one of ${STATUSES.join(", ")}, not '${status.slice(0, 100)}'`,
            {
              problems: [
                { path: "query.status", message: `must be one of ${STATUSES.join(", ")}` },
              ],
            },
          );
        const startedAfter = timeParam(ctx, "startedAfter");
        const startedBefore = timeParam(ctx, "startedBefore");
        const limit = integerParam(ctx, "limit", 1, LIST_LIMIT.max) ?? LIST_LIMIT.default;
        const scope = JSON.stringify([app, workflow, status, startedAfter, startedBefore]);
        const cursor = unwrapCursor(ctx.tenant, scope, ctx.query.cursor);
        const page = await withCursor(cursor, () =>
          listExecutions(
            store,
            {
              tenant: ctx.tenant,
              app,
              ...(workflow === undefined ? {} : { workflow }),
              ...(status === undefined ? {} : { status: status as ExecutionStatus }),
              ...(startedAfter === undefined ? {} : { startedAfter }),
              ...(startedBefore === undefined ? {} : { startedBefore }),
            },
            limit,
            cursor,
          ),
        );
        const next = wrapCursor(ctx.tenant, scope, page.cursor);
        return {
          status: 200,
          body: { items: page.items.map(summary), ...(next ? { cursor: next } : {}) },
        };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/executions/{id}",
      operationId: "getExecution",
      query: ["wait"],
      run: async (ctx) => {
        env.checkApp(ctx);
        const wait = integerParam(ctx, "wait", 0, MAX_WAIT_SECONDS);
        let view = await env.findExecution(ctx);
        // `?wait=N`: a long poll for the end — one request, not many GETs, and it starts
        // nothing (a start retried to wait would re-send a first step that may still run).
        let waitedMs: number | undefined;
        if (wait !== undefined && wait > 0 && view.thread.status === "running") {
          const since = env.now();
          view =
            (await waitForEnd(env, ctx.tenant, view.header.executionId, wait)) ??
            (await env.findExecution(ctx));
          waitedMs = env.now() - since;
        }
        const [described, related, usage] = await Promise.all([
          describeExecution(view, env.codec, store, true, MAX_ANSWER_VALUE_BYTES),
          store.links(view.header),
          store.usageOf(view.header, COST_MAX_ITEMS),
        ]);
        return {
          status: 200,
          body: {
            ...details(described),
            ...(related.redriveOf === undefined ? {} : { redriveOf: related.redriveOf }),
            ...(related.redrives.length === 0 ? {} : { redrives: related.redrives }),
            cost: costOf(usage.usage, usage.complete),
          },
          ...(waitedMs === undefined ? {} : { waitedMs }),
        };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/executions/{id}/history",
      operationId: "getHistory",
      query: ["limit", "cursor"],
      run: async (ctx) => {
        env.checkApp(ctx);
        const view = await env.findExecution(ctx);
        const limit = integerParam(ctx, "limit", 1, HISTORY_LIMIT.max) ?? HISTORY_LIMIT.default;
        const id = view.header.executionId;
        const cursor = unwrapCursor(ctx.tenant, id, ctx.query.cursor);
        const page = await withCursor(cursor, () =>
          readHistory(store, env.codec, view.header, limit, cursor, MAX_ANSWER_VALUE_BYTES, view),
        );
        const next = wrapCursor(ctx.tenant, id, page.cursor);
        return {
          status: 200,
          body: {
            id,
            events: page.items.map((event) => historyEvent(event, view.header)),
            ...(next ? { cursor: next } : {}),
          },
        };
      },
    },
    {
      method: "POST",
      path: "/v1/apps/{app}/executions/{id}/cancel",
      operationId: "cancelExecution",
      query: [],
      run: async (ctx) => {
        env.checkApp(ctx);
        const body = bodyObject(ctx, { reason: "string" });
        const view = await env.findExecution(ctx);
        const id = view.header.executionId;
        const reason = (body.reason as string | undefined) ?? "cancelled through the API";
        if (reason.length > MAX_REASON_CHARS)
          throw new HttpError(
            "INVALID_BODY",
            `body.reason is ${reason.length} characters; the limit is ${MAX_REASON_CHARS}`,
            {
              problems: [
                { path: "body.reason", message: `at most ${MAX_REASON_CHARS} characters` },
              ],
            },
          );
        // 202 only once the cancel took effect (a retried cancel too); 409 with the status
        // the execution really ended in when it ended otherwise, even in a race with its end.
        const cancelled = await runtime.cancel(ctx.tenant, id, reason);
        if (cancelled.outcome !== "cancelled")
          throw new HttpError(
            "EXECUTION_ENDED",
            `execution '${id}' has already ended (${cancelled.outcome === "ended" ? cancelled.status : view.thread.status})`,
          );
        return {
          status: 202,
          body: { id, cancelRequested: true, reason, links: links(env.deps.app, id) },
        };
      },
    },
  ];
};
