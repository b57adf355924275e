/**
 * The HTTP API: versioned JSON routes over the runtime and the store, as one
 * handler of API Gateway HTTP API (payload v2) events. The `api` Lambda and the
 * local server (`lib/local/http-server.ts`) run this same function.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { AppConfig, HttpTrigger } from "../app/config.ts";
import { validateWorkflow } from "../core/cdl/index.ts";
import type { HistoryEvent } from "../core/engine/types.ts";
import type { JsonValue } from "../core/expr/index.ts";
import type {
  Clock,
  ExecutionStatus,
  ExecutionStore,
  ExecutionView,
  PayloadStore,
} from "../core/ports.ts";
import { PayloadCodec } from "../runtime/codec.ts";
import { DefinitionError, type DefinitionRegistry } from "../runtime/definitions.ts";
import {
  describeExecution,
  type ExecutionDetails,
  listExecutions,
  readHistory,
} from "../runtime/queries.ts";
import { EXECUTION_ID_PATTERN, type Runtime, StartError } from "../runtime/runtime.ts";
import { HttpError, type Problem } from "./errors.ts";
import { type MetricsRouteDeps, metricsRoutes } from "./metrics-routes.ts";

/** What the API needs. Built once per process (at module scope in the Lambda). */
export interface ApiDeps {
  /** Starts, cancels and signals executions. */
  readonly runtime: Runtime;
  /** Reads executions and history. */
  readonly store: ExecutionStore;
  /** Reads offloaded inputs, outputs and history values. */
  readonly payloads: PayloadStore;
  /** The app's current workflows. */
  readonly definitions: DefinitionRegistry;
  /** The app this API serves (`/v1/apps/{app}`). */
  readonly app: string;
  /** `cascade.yaml`: HTTP triggers, tenants and auth. Without it: no triggers, any well-formed tenant. */
  readonly config?: AppConfig;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Larger request bodies get 413 PAYLOAD_TOO_LARGE. Default `MAX_REQUEST_BODY_BYTES`. */
  readonly maxBodyBytes?: number;
  /** Where unexpected errors are logged. Default: standard error. */
  readonly log?: (line: string) => void;
  /** What the metrics routes read (the local store, or CloudWatch). */
  readonly metrics?: MetricsRouteDeps["metrics"];
}

/** An API handler: HTTP API payload v2 event in, structured result out. Never throws. */
export type ApiHandler = ((
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>) & {
  /** The routes it serves (HTTP triggers aside), as documented in docs/openapi.yaml. */
  readonly routes: readonly RouteSpec[];
};

/** Request bodies larger than this are refused (413): 1 MiB. Large inputs are offloaded to S3 once accepted. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/** The longest a synchronous start waits, in seconds: API Gateway's integration timeout is 29 s (30 s hard). */
export const MAX_WAIT_SECONDS = 29;
/** List page size: default and maximum. */
export const LIST_LIMIT = { default: 20, max: 100 } as const;
/** History page size: default and maximum. */
export const HISTORY_LIMIT = { default: 100, max: 1000 } as const;
/** The tenant header of the local stack (auth `none`); on AWS with JWT auth the token's claim wins. */
export const TENANT_HEADER = "x-cascade-tenant";
/** The tenant when none is named (auth `none`). */
export const DEFAULT_TENANT = "default";

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const STATUSES: readonly ExecutionStatus[] = ["running", "succeeded", "failed", "cancelled"];
const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json$/i;
const YAML_TYPE = /^(?:application\/(?:x-)?yaml|text\/(?:x-)?yaml|text\/plain)$/i;

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

interface Context {
  readonly event: APIGatewayProxyEventV2;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly tenant: string;
  /** The body's text ("" when none), already size-checked. */
  readonly text: string;
  /** The media type of the body, lower-cased, without parameters ("" when none). */
  readonly mediaType: string;
}

/** A route the API serves: its method, path template and the query parameters it takes. */
export interface RouteSpec {
  readonly method: "GET" | "POST";
  /** With `{param}` segments, as in the OpenAPI document. */
  readonly path: string;
  readonly operationId: string;
  readonly query: readonly string[];
  /** Accepts a YAML body as well as JSON. */
  readonly yaml?: boolean;
}

interface Route extends RouteSpec {
  readonly run: (ctx: Context) => Promise<Reply>;
}

// ---------------------------------------------------------------------------
// Request helpers

function parseJson(ctx: Context): unknown {
  if (ctx.text.trim() === "") return undefined;
  try {
    return JSON.parse(ctx.text) as unknown;
  } catch (error) {
    throw new HttpError("INVALID_JSON", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

type FieldType = "string" | "json" | "number";

/**
 * The body as an object with only the named fields (every problem reported at
 * once). An empty body is `{}`.
 */
function bodyObject(
  ctx: Context,
  fields: Readonly<Record<string, FieldType>>,
  required: readonly string[] = [],
): Record<string, unknown> {
  const value = parseJson(ctx);
  if (value === undefined) {
    if (required.length === 0) return {};
    throw new HttpError(
      "INVALID_BODY",
      `the body must be a JSON object with ${required.join(", ")}`,
      {
        problems: required.map((name) => ({ path: `body.${name}`, message: "is required" })),
      },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(
      "INVALID_BODY",
      `the body must be a JSON object, not ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}`,
    );
  }
  const record = value as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const [key, field] of Object.entries(record)) {
    const type = fields[key];
    if (type === undefined) {
      problems.push({
        path: `body.${key}`,
        message: `unknown field (expected ${Object.keys(fields).join(", ")})`,
      });
    } else if (type !== "json" && typeof field !== type) {
      problems.push({ path: `body.${key}`, message: `must be a ${type}` });
    }
  }
  for (const name of required)
    if (record[name] === undefined) problems.push({ path: `body.${name}`, message: "is required" });
  if (problems.length > 0)
    throw new HttpError("INVALID_BODY", problems.map((p) => `${p.path} ${p.message}`).join("; "), {
      problems,
    });
  return record;
}

function integerParam(ctx: Context, name: string, min: number, max: number): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be a number from ${min} to ${max}, not '${raw}'`,
      {
        problems: [{ path: `query.${name}`, message: `must be a number from ${min} to ${max}` }],
      },
    );
  }
  return n;
}

function timeParam(ctx: Context, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be an ISO 8601 time or epoch milliseconds, not '${raw}'`,
      {
        problems: [
          { path: `query.${name}`, message: "must be an ISO 8601 time or epoch milliseconds" },
        ],
      },
    );
  }
  return n;
}

/** Cursors are bound to the tenant and the request they continue: a cursor is no way into other data. */
function wrapCursor(tenant: string, scope: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  return Buffer.from(JSON.stringify({ t: tenant, s: scope, c: cursor })).toString("base64url");
}

function unwrapCursor(tenant: string, scope: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as {
      t?: unknown;
      s?: unknown;
      c?: unknown;
    };
    if (value.t === tenant && value.s === scope && typeof value.c === "string") return value.c;
  } catch {
    // reported below
  }
  throw new HttpError(
    "INVALID_CURSOR",
    "the cursor was not issued by this API for this request (pass the cursor of the previous page with the same filters)",
  );
}

/** What the store throws for a cursor it did not issue (it never reads across tenants). */
const isCursorFault = (error: unknown): boolean =>
  error instanceof SyntaxError ||
  (error instanceof Error &&
    (error.name === "DynamoDbStoreError" || error.name === "ValidationException"));

const iso = (ms: number): string => new Date(ms).toISOString();

/** A JSON pointer into the input (`/items/0/id`) as a path (`input.items[0].id`). */
export function inputPath(pointer: string): string {
  let path = "input";
  for (const raw of pointer.split("/").slice(1)) {
    if (raw === "") continue;
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(part)
      ? `[${part}]`
      : /^[A-Za-z_$][\w$]*$/.test(part)
        ? `.${part}`
        : `[${JSON.stringify(part)}]`;
  }
  return path;
}

// ---------------------------------------------------------------------------
// Representations

function links(
  app: string,
  id: string,
): { self: string; history: string; cancel: string; events: string } {
  const base = `/v1/apps/${encodeURIComponent(app)}/executions/${encodeURIComponent(id)}`;
  return {
    self: base,
    history: `${base}/history`,
    cancel: `${base}/cancel`,
    events: `${base}/events`,
  };
}

function summary(view: ExecutionView): Record<string, unknown> {
  const { header, thread } = view;
  return {
    id: header.executionId,
    app: header.app,
    workflow: header.workflow,
    status: thread.status,
    startedAt: iso(header.startedAt),
    ...(thread.status === "running" ? {} : { endedAt: iso(view.committedAt) }),
    ...(thread.error ? { error: thread.error } : {}),
    links: links(header.app, header.executionId),
  };
}

function details(d: ExecutionDetails): Record<string, unknown> {
  const ended = d.status !== "running";
  return {
    id: d.executionId,
    app: d.app,
    workflow: d.workflow,
    tenant: d.tenant,
    status: d.status,
    definitionHash: d.definitionHash,
    startedAt: iso(d.startedAt),
    stateEnteredAt: iso(d.stateEnteredAt),
    ...(ended
      ? {
          endedAt: iso(d.endedAt ?? d.stateEnteredAt),
          durationMs: (d.endedAt ?? d.stateEnteredAt) - d.startedAt,
        }
      : {}),
    transitions: d.transitions,
    input: d.input,
    output: d.output ?? null,
    error: d.error ?? null,
    current: (d.current ?? []).map((c) => ({ ...c, enteredAt: iso(c.enteredAt) })),
    links: links(d.app, d.executionId),
  };
}

const historyEvent = (event: HistoryEvent): Record<string, unknown> => ({
  ...event,
  at: iso(event.at),
});

// ---------------------------------------------------------------------------
// The handler

/**
 * Builds the API handler. It never throws: every failure is an answer
 * `{error: {code, message, problems?}}` with the code's status (see `API_ERRORS`).
 */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const clock = deps.clock ?? { now: () => Date.now() };
  const codec = new PayloadCodec(deps.payloads);
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { store, runtime, definitions } = deps;

  const checkApp = (ctx: Context): string => {
    const app = ctx.params.app ?? "";
    if (app !== deps.app)
      throw new HttpError(
        "UNKNOWN_APP",
        `no app named '${app}' here (this API serves '${deps.app}')`,
      );
    return app;
  };

  const currentWorkflow = (name: string) => {
    try {
      return definitions.current(name);
    } catch (error) {
      if (error instanceof DefinitionError && error.code === "UNKNOWN_WORKFLOW") {
        const names = definitions.names();
        throw new HttpError(
          "UNKNOWN_WORKFLOW",
          `no workflow named '${name}' in app '${deps.app}'${names.length > 0 ? ` (it has ${names.join(", ")})` : ""}`,
        );
      }
      throw error;
    }
  };

  const checkId = (id: string): void => {
    if (!EXECUTION_ID_PATTERN.test(id))
      throw new HttpError(
        "INVALID_ID",
        `'${id}' is not a valid execution id: 1-128 letters, digits, _ . : - (starting with a letter or digit)`,
      );
  };

  /** The execution, in this tenant and app. @throws UNKNOWN_EXECUTION */
  const findExecution = async (ctx: Context): Promise<ExecutionView> => {
    const id = ctx.params.id ?? "";
    checkId(id);
    const view = await store.getExecution(ctx.tenant, id);
    if (!view || view.header.app !== deps.app)
      throw new HttpError("UNKNOWN_EXECUTION", `no execution '${id}' in app '${deps.app}'`);
    return view;
  };

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Polls until the execution ends or `seconds` pass. */
  const waitForEnd = async (
    tenant: string,
    id: string,
    seconds: number,
  ): Promise<ExecutionView | undefined> => {
    const deadline = clock.now() + seconds * 1000;
    let pause = 20;
    for (;;) {
      const view = await store.getExecution(tenant, id);
      if (view && view.thread.status !== "running") return view;
      const left = deadline - clock.now();
      if (left <= 0) return undefined;
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 1.5, 250);
    }
  };

  /** Starts (idempotently on id) and, with `wait`, waits for the end. */
  const start = async (
    tenant: string,
    workflow: string,
    input: JsonValue,
    id: string | undefined,
    wait: number | undefined,
  ): Promise<Reply> => {
    currentWorkflow(workflow);
    if (id !== undefined) checkId(id);
    let started: Awaited<ReturnType<Runtime["startExecution"]>>;
    try {
      started = await runtime.startExecution(workflow, input, {
        tenant,
        ...(id === undefined ? {} : { id }),
      });
    } catch (error) {
      if (error instanceof StartError) {
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
      }
      throw error;
    }
    const location = links(deps.app, started.executionId).self;
    if (wait !== undefined && wait > 0) {
      const ended =
        started.record.thread.status !== "running"
          ? started.record
          : await waitForEnd(tenant, started.executionId, wait);
      if (ended)
        return {
          status: 200,
          body: details(await describeExecution(ended, codec, store, false)),
          headers: { location },
        };
    }
    const view = started.record;
    return {
      status: started.created ? 202 : 200,
      body: summary(view),
      headers: { location },
    };
  };

  const routes: Route[] = [
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
              workflows: definitions.names(),
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
        const app = checkApp(ctx);
        return {
          status: 200,
          body: {
            name: app,
            workflows: definitions.names(),
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
    {
      method: "GET",
      path: "/v1/apps/{app}/workflows",
      operationId: "listWorkflows",
      query: [],
      run: async (ctx) => {
        const app = checkApp(ctx);
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
      query: [],
      run: async (ctx) => {
        checkApp(ctx);
        const { hash, source, definition } = currentWorkflow(ctx.params.workflow ?? "");
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
            source,
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
        checkApp(ctx);
        const wait = integerParam(ctx, "wait", 0, MAX_WAIT_SECONDS);
        const workflow = ctx.params.workflow ?? "";
        currentWorkflow(workflow);
        const body = bodyObject(ctx, { input: "json", id: "string" });
        return start(
          ctx.tenant,
          workflow,
          (body.input ?? {}) as JsonValue,
          body.id as string | undefined,
          wait,
        );
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/executions",
      operationId: "listExecutions",
      query: ["workflow", "status", "startedAfter", "startedBefore", "limit", "cursor"],
      run: async (ctx) => {
        const app = checkApp(ctx);
        const workflow = ctx.query.workflow;
        const status = ctx.query.status;
        if (status !== undefined && !STATUSES.includes(status as ExecutionStatus))
          throw new HttpError(
            "INVALID_QUERY",
            `status must be one of ${STATUSES.join(", ")}, not '${status}'`,
            {
              problems: [
                { path: "query.status", message: `must be one of ${STATUSES.join(", ")}` },
              ],
            },
          );
        const startedAfter = timeParam(ctx, "startedAfter");
        const startedBefore = timeParam(ctx, "startedBefore");
        const limit = integerParam(ctx, "limit", 1, LIST_LIMIT.max) ?? LIST_LIMIT.default;
        if (!Number.isInteger(limit))
          throw new HttpError("INVALID_QUERY", "limit must be a whole number", {
            problems: [{ path: "query.limit", message: "must be a whole number" }],
          });
        const scope = JSON.stringify([app, workflow, status, startedAfter, startedBefore]);
        const cursor = unwrapCursor(ctx.tenant, scope, ctx.query.cursor);
        let page: Awaited<ReturnType<typeof listExecutions>>;
        try {
          page = await listExecutions(
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
          );
        } catch (error) {
          if (cursor !== undefined && isCursorFault(error))
            throw new HttpError("INVALID_CURSOR", "the cursor could not be used", {});
          throw error;
        }
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
      query: [],
      run: async (ctx) => {
        checkApp(ctx);
        const view = await findExecution(ctx);
        return { status: 200, body: details(await describeExecution(view, codec, store, true)) };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/executions/{id}/history",
      operationId: "getHistory",
      query: ["limit", "cursor"],
      run: async (ctx) => {
        checkApp(ctx);
        const view = await findExecution(ctx);
        const limit = integerParam(ctx, "limit", 1, HISTORY_LIMIT.max) ?? HISTORY_LIMIT.default;
        if (!Number.isInteger(limit))
          throw new HttpError("INVALID_QUERY", "limit must be a whole number", {
            problems: [{ path: "query.limit", message: "must be a whole number" }],
          });
        const scope = view.header.executionId;
        const cursor = unwrapCursor(ctx.tenant, scope, ctx.query.cursor);
        let page: Awaited<ReturnType<typeof readHistory>>;
        try {
          page = await readHistory(store, codec, ctx.tenant, scope, limit, cursor);
        } catch (error) {
          if (cursor !== undefined && isCursorFault(error))
            throw new HttpError("INVALID_CURSOR", "the cursor could not be used", {});
          throw error;
        }
        const next = wrapCursor(ctx.tenant, scope, page.cursor);
        return {
          status: 200,
          body: {
            id: scope,
            events: page.items.map(historyEvent),
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
        checkApp(ctx);
        const body = bodyObject(ctx, { reason: "string" });
        const view = await findExecution(ctx);
        const id = view.header.executionId;
        const reason = (body.reason as string | undefined) ?? "cancelled through the API";
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
          body: { id, cancelRequested: true, reason, links: links(deps.app, id) },
        };
      },
    },
    {
      method: "POST",
      path: "/v1/apps/{app}/executions/{id}/events",
      operationId: "sendEvent",
      query: [],
      run: async (ctx) => {
        checkApp(ctx);
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
            {
              problems,
            },
          );
        const view = await findExecution(ctx);
        const id = view.header.executionId;
        const payload = (body.payload ?? null) as JsonValue;
        const delivered =
          view.thread.status === "running" &&
          (await runtime.signal(
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
        return { status: 202, body: { id, event, accepted: true, links: links(deps.app, id) } };
      },
    },
    {
      method: "POST",
      path: "/v1/validate",
      operationId: "validateWorkflow",
      query: [],
      yaml: true,
      run: async (ctx) => {
        let source: string;
        let file = "workflow.yaml";
        if (YAML_TYPE.test(ctx.mediaType)) {
          source = ctx.text;
        } else {
          const body = bodyObject(ctx, { source: "string", file: "string" }, ["source"]);
          source = body.source as string;
          if (typeof body.file === "string") file = body.file;
        }
        const result = validateWorkflow(file, source);
        return {
          status: 200,
          body: {
            valid: result.definition !== undefined,
            ...(result.definition ? { name: result.definition.name } : {}),
            diagnostics: result.diagnostics,
          },
        };
      },
    },
    ...metricsRoutes({ ...deps, workflows: () => definitions.names() }),
  ];

  const triggerRoute = (trigger: HttpTrigger): Route => ({
    method: trigger.method === "GET" ? "GET" : "POST",
    path: trigger.path,
    operationId: `trigger:${trigger.method} ${trigger.path}`,
    // GET and DELETE triggers take their query string as the input.
    query: trigger.method === "GET" || trigger.method === "DELETE" ? ["*"] : [],
    run: async (ctx) => {
      const input: JsonValue =
        trigger.method === "GET" || trigger.method === "DELETE"
          ? { ...ctx.query }
          : ((parseJson(ctx) ?? {}) as JsonValue);
      const key = ctx.event.headers?.["idempotency-key"];
      return start(
        ctx.tenant,
        trigger.workflow,
        input,
        key,
        trigger.mode === "sync" ? trigger.timeoutSeconds : undefined,
      );
    },
  });

  const triggers = (deps.config?.triggers ?? []).map((t) => ({
    trigger: t,
    route: triggerRoute(t),
  }));

  const resolveTenant = (event: APIGatewayProxyEventV2): string => {
    const claimName = deps.config?.auth.tenantClaim ?? "tenant";
    const claims = (
      event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }
    ).authorizer?.jwt?.claims;
    let tenant: string;
    if (claims) {
      const claim = claims[claimName];
      if (typeof claim !== "string" && typeof claim !== "number")
        throw new HttpError(
          "TENANT_MISSING",
          `the token has no '${claimName}' claim naming the tenant`,
        );
      tenant = String(claim);
    } else if (deps.config?.auth.type === "jwt") {
      throw new HttpError("TENANT_MISSING", "the request carries no verified token claims");
    } else {
      tenant = event.headers?.[TENANT_HEADER] ?? DEFAULT_TENANT;
    }
    if (!TENANT_PATTERN.test(tenant))
      throw new HttpError(
        "INVALID_TENANT",
        `'${tenant}' is not a tenant name: 1-64 letters, digits, _ -`,
      );
    if (deps.config && !deps.config.tenants.names.includes(tenant))
      throw new HttpError("UNKNOWN_TENANT", `tenant '${tenant}' is not one of this app's tenants`);
    return tenant;
  };

  const match = (
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } => {
    const segments = path.split("/").slice(1);
    const allowed = new Set<string>();
    for (const route of routes) {
      const parts = route.path.split("/").slice(1);
      if (parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (const [i, part] of parts.entries()) {
        const segment = segments[i] ?? "";
        if (part.startsWith("{")) {
          if (segment === "") {
            ok = false;
            break;
          }
          try {
            params[part.slice(1, -1)] = decodeURIComponent(segment);
          } catch {
            ok = false;
            break;
          }
        } else if (part !== segment) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method === method) return { route, params };
      allowed.add(route.method);
    }
    for (const { trigger, route } of triggers) {
      if (trigger.path.replace(/\/+$/, "") !== path) continue;
      if (trigger.method === method) return { route, params: {} };
      allowed.add(trigger.method);
    }
    if (allowed.size > 0)
      throw new HttpError(
        "METHOD_NOT_ALLOWED",
        `${method} is not allowed on ${path} (allowed: ${[...allowed].join(", ")})`,
        {
          headers: { allow: [...allowed].join(", ") },
        },
      );
    throw new HttpError(
      "UNKNOWN_ROUTE",
      `no route ${method} ${path} (the API is under /v1; see docs/openapi.yaml)`,
    );
  };

  const answer = (reply: Reply, requestId: string): APIGatewayProxyStructuredResultV2 => ({
    statusCode: reply.status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-request-id": requestId,
      ...reply.headers,
    },
    body: JSON.stringify(reply.body),
  });

  const handle = async (
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId ?? "";
    try {
      const method = (event.requestContext?.http?.method ?? "GET").toUpperCase();
      const rawPath = event.rawPath ?? event.requestContext?.http?.path ?? "/";
      const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, "") : rawPath;
      const { route, params } = match(method, path);

      const text = event.body
        ? event.isBase64Encoded
          ? Buffer.from(event.body, "base64").toString("utf8")
          : event.body
        : "";
      const bytes = Buffer.byteLength(text);
      if (bytes > maxBodyBytes)
        throw new HttpError(
          "PAYLOAD_TOO_LARGE",
          `the request body is ${bytes} bytes; the limit is ${maxBodyBytes} bytes`,
        );
      const contentType = event.headers?.["content-type"] ?? "";
      const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
      if (
        text !== "" &&
        mediaType !== "" &&
        !JSON_TYPE.test(mediaType) &&
        !(route.yaml && YAML_TYPE.test(mediaType))
      )
        throw new HttpError(
          "UNSUPPORTED_MEDIA_TYPE",
          `the body must be application/json${route.yaml ? " (or application/yaml)" : ""}, not ${mediaType}`,
        );

      const query: Record<string, string> = {};
      for (const [key, value] of new URLSearchParams(event.rawQueryString ?? ""))
        query[key] = value;
      if (!event.rawQueryString && event.queryStringParameters)
        for (const [key, value] of Object.entries(event.queryStringParameters))
          if (value !== undefined) query[key] = value;
      const unknown = route.query.includes("*")
        ? []
        : Object.keys(query).filter((key) => !route.query.includes(key));
      if (unknown.length > 0)
        throw new HttpError(
          "INVALID_QUERY",
          `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}${route.query.length > 0 ? ` (expected ${route.query.join(", ")})` : ""}`,
          {
            problems: unknown.map((key) => ({
              path: `query.${key}`,
              message: "unknown parameter",
            })),
          },
        );

      const tenant = resolveTenant(event);
      const reply = await route.run({ event, params, query, tenant, text, mediaType });
      return answer(reply, requestId);
    } catch (caught) {
      // A silo deployment has a table per tenant only for the tenants it was deployed with.
      const failure =
        caught instanceof Error && caught.name === "UnknownTenantError"
          ? new HttpError("UNKNOWN_TENANT", caught.message)
          : caught;
      if (failure instanceof HttpError) {
        return answer(
          {
            status: failure.status,
            body: {
              error: {
                code: failure.code,
                message: failure.message,
                ...(failure.problems ? { problems: failure.problems } : {}),
              },
            },
            ...(failure.headers ? { headers: { ...failure.headers } } : {}),
          },
          requestId,
        );
      }
      log(
        `cascade api ${requestId}: ${caught instanceof Error ? (caught.stack ?? caught.message) : String(caught)}`,
      );
      return answer(
        {
          status: 500,
          body: {
            error: {
              code: "INTERNAL",
              message: `the API failed to answer (request ${requestId}); see the function's log`,
            },
          },
        },
        requestId,
      );
    }
  };
  const specs: RouteSpec[] = routes.map(({ run: _run, ...spec }) => spec);
  return Object.assign(handle, { routes: specs });
}
