/**
 * The metrics routes of the HTTP API (`GET /v1/apps/{app}/metrics/...`): an activity's
 * or a workflow's figures over a window, read from a MetricsReader (the local store's
 * exact samples under `cascade dev`, CloudWatch on AWS). `cascade metrics` and the
 * console read these.
 */

import {
  type ActivityFigures,
  DEFAULT_PERCENTILES,
  DEFAULT_PERIOD,
  MetricsQueryError,
  type MetricsReader,
  parsePercentiles,
  parsePeriod,
  type WorkflowFigures,
} from "../core/metrics-query.ts";
import type { Clock } from "../core/ports.ts";
import { HttpError } from "./errors.ts";

/** What the metrics routes need. */
export interface MetricsRouteDeps {
  /** The app the API serves. */
  readonly app: string;
  /** Without it the routes answer 503 METRICS_UNAVAILABLE. */
  readonly metrics?: MetricsReader | undefined;
  /** The app's current workflow names. */
  readonly workflows: () => readonly string[];
  readonly clock?: Clock | undefined;
}

/** The part of a request these routes read. */
export interface MetricsRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly tenant: string;
}

/** A route in the shape of the handler's route table. */
export interface MetricsRoute {
  readonly method: "GET";
  readonly path: string;
  readonly operationId: string;
  readonly query: readonly string[];
  readonly run: (ctx: MetricsRequest) => Promise<{ status: number; body: unknown }>;
}

/** The query parameters every metrics route takes. */
const QUERY = ["period", "percentiles"] as const;

interface Window {
  readonly from: number;
  readonly to: number;
  readonly periodSeconds: number;
}

const activityBody = (f: ActivityFigures) => ({
  name: f.name,
  executions: f.executions,
  errors: f.errors,
  errorRate: f.executions === 0 ? 0 : f.errors / f.executions,
  avgDurationMs: f.avgDurationMs,
  percentiles: f.percentiles,
});

const workflowBody = (f: WorkflowFigures) => ({
  name: f.name,
  started: f.started,
  succeeded: f.succeeded,
  failed: f.failed,
  cancelled: f.cancelled,
  throughputPerSecond: f.throughputPerSecond,
  avgDurationMs: f.avgDurationMs,
  percentiles: f.percentiles,
});

/** The metrics routes, to add to the handler's route table. */
export function metricsRoutes(deps: MetricsRouteDeps): MetricsRoute[] {
  const now = () => (deps.clock ? deps.clock.now() : Date.now());

  const prepare = (ctx: MetricsRequest) => {
    const app = ctx.params.app ?? "";
    if (app !== deps.app)
      throw new HttpError(
        "UNKNOWN_APP",
        `no app named '${app}' here (this API serves '${deps.app}')`,
      );
    const reader = deps.metrics;
    if (!reader)
      throw new HttpError("METRICS_UNAVAILABLE", "this API was started without a metrics source");
    let periodSeconds: number;
    let percentiles: readonly number[];
    try {
      periodSeconds = parsePeriod(ctx.query.period ?? DEFAULT_PERIOD);
      percentiles =
        ctx.query.percentiles === undefined
          ? DEFAULT_PERCENTILES
          : parsePercentiles(ctx.query.percentiles);
    } catch (error) {
      if (!(error instanceof MetricsQueryError)) throw error;
      throw new HttpError("INVALID_QUERY", error.message, {
        problems: [
          {
            path: error.message.startsWith("period") ? "query.period" : "query.percentiles",
            message: error.message,
          },
        ],
      });
    }
    const to = now();
    const window: Window = { from: to - periodSeconds * 1000, to, periodSeconds };
    const meta = { source: reader.source, exact: reader.exact, window };
    return {
      reader,
      meta,
      query: { app, tenant: ctx.tenant, from: window.from, to: window.to, percentiles },
    };
  };

  const knownWorkflow = (name: string): string => {
    if (!deps.workflows().includes(name))
      throw new HttpError("UNKNOWN_WORKFLOW", `no workflow named '${name}' in app '${deps.app}'`);
    return name;
  };

  return [
    {
      method: "GET",
      path: "/v1/apps/{app}/metrics/activities/{activity}",
      operationId: "getActivityMetrics",
      query: QUERY,
      run: async (ctx) => {
        const { reader, meta, query } = prepare(ctx);
        const figures = await reader.activity(query, ctx.params.activity ?? "");
        return { status: 200, body: { ...activityBody(figures), ...meta } };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/metrics/workflows",
      operationId: "listWorkflowMetrics",
      query: QUERY,
      run: async (ctx) => {
        const { reader, meta, query } = prepare(ctx);
        const names = [...deps.workflows()].sort();
        const figures = await reader.workflows(query, [...names, null]);
        const total = figures.pop();
        return {
          status: 200,
          body: {
            items: figures.map(workflowBody),
            total: total ? workflowBody(total) : null,
            ...meta,
          },
        };
      },
    },
    {
      method: "GET",
      path: "/v1/apps/{app}/metrics/workflows/{workflow}",
      operationId: "getWorkflowMetrics",
      query: QUERY,
      run: async (ctx) => {
        const { reader, meta, query } = prepare(ctx);
        const name = knownWorkflow(ctx.params.workflow ?? "");
        const [figures] = await reader.workflows(query, [name]);
        if (!figures) throw new Error(`the metrics reader returned nothing for ${name}`);
        return { status: 200, body: { ...workflowBody(figures), ...meta } };
      },
    },
  ];
}
