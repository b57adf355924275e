/**
 * `cascade metrics activity NAME` and `cascade metrics workflow [NAME]`: figures over a
 * window from the HTTP API (`GET /v1/apps/{app}/metrics/...`), which reads the local
 * stack's exact samples under `cascade dev` and CloudWatch on AWS.
 */
import { formatDuration, formatRate } from "../../core/metrics-query.ts";
import { seg } from "../api-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { connect as connectApi, type ProcessCommonOptions } from "./process.ts";

/** The API options of `process` (endpoint, app, tenant, token, SigV4), and the window. */
export interface MetricsOptions extends ProcessCommonOptions {
  /** `24h`, already checked. */
  readonly period: string;
  /** `p50,p95,p99`, already checked. */
  readonly percentiles?: string;
}

type Percentiles = Record<string, number | null>;

interface ActivityBody {
  name: string;
  executions: number;
  errors: number;
  avgDurationMs: number | null;
  percentiles: Percentiles;
}

interface WorkflowBody {
  name: string | null;
  started: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  throughputPerSecond: number;
  avgDurationMs: number | null;
  percentiles: Percentiles;
}

async function connect(options: MetricsOptions, io: CliIo) {
  const { client, app } = await connectApi(options, io);
  const params = new URLSearchParams({ period: options.period });
  if (options.percentiles !== undefined) params.set("percentiles", options.percentiles);
  return { client, app, query: `?${params}` };
}

/** The seed's activity record: `{"name","executions","avg_duration","p50",...,"error_rate"}`. */
export function activityRecord(body: ActivityBody): Record<string, string | number> {
  return {
    name: body.name,
    executions: body.executions,
    avg_duration: formatDuration(body.avgDurationMs),
    ...Object.fromEntries(
      Object.entries(body.percentiles).map(([label, ms]) => [label, formatDuration(ms)]),
    ),
    error_rate: formatRate(body.errors, body.executions),
  };
}

/** A workflow's record: started, succeeded, failed, cancelled, throughput and durations. */
export function workflowRecord(body: WorkflowBody): Record<string, string | number | null> {
  return {
    name: body.name,
    started: body.started,
    succeeded: body.succeeded,
    failed: body.failed,
    cancelled: body.cancelled,
    throughput: `${body.throughputPerSecond.toFixed(2)}/s`,
    avg_duration: formatDuration(body.avgDurationMs),
    ...Object.fromEntries(
      Object.entries(body.percentiles).map(([label, ms]) => [label, formatDuration(ms)]),
    ),
  };
}

/** Prints records as a table with a header row (bold on a terminal); numbers right-aligned. */
export function printTable(records: readonly Record<string, unknown>[], io: CliIo): void {
  const first = records[0];
  if (!first) return;
  const keys = Object.keys(first);
  const cells = records.map((r) => keys.map((k) => (r[k] === null ? "-" : String(r[k]))));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const numeric = keys.map((k) => typeof first[k] === "number");
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const header = line(keys);
  io.stdout(`${io.isTty ? `\u001b[1m${header}\u001b[0m` : header}\n`);
  for (const row of cells) io.stdout(`${line(row)}\n`);
}

/** `metrics activity NAME`. */
export async function runMetricsActivity(
  name: string,
  options: MetricsOptions,
  io: CliIo,
): Promise<ExitCode> {
  const { client, app, query } = await connect(options, io);
  const { body } = await client.request<ActivityBody>(
    "GET",
    `/v1/apps/${seg(app)}/metrics/activities/${seg(name)}${query}`,
  );
  const record = activityRecord(body);
  if (options.format === "json") io.stdout(`${JSON.stringify(record)}\n`);
  else printTable([record], io);
  return EXIT.OK;
}

/** `metrics workflow [NAME]`: one workflow, or every workflow and the app's total. */
export async function runMetricsWorkflow(
  name: string | undefined,
  options: MetricsOptions,
  io: CliIo,
): Promise<ExitCode> {
  const { client, app, query } = await connect(options, io);
  if (name !== undefined) {
    const { body } = await client.request<WorkflowBody>(
      "GET",
      `/v1/apps/${seg(app)}/metrics/workflows/${seg(name)}${query}`,
    );
    const record = workflowRecord(body);
    if (options.format === "json") io.stdout(`${JSON.stringify(record)}\n`);
    else printTable([record], io);
    return EXIT.OK;
  }
  const { body } = await client.request<{ items: WorkflowBody[]; total: WorkflowBody | null }>(
    "GET",
    `/v1/apps/${seg(app)}/metrics/workflows${query}`,
  );
  const records = body.items.map(workflowRecord);
  if (options.format === "json") io.stdout(`${JSON.stringify(records)}\n`);
  else
    printTable(
      [...records, ...(body.total ? [{ ...workflowRecord(body.total), name: "(all)" }] : [])],
      io,
    );
  return EXIT.OK;
}
