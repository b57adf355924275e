/**
 * What `cascade metrics` asks and answers: the query (a window and percentiles), the
 * figures of an activity or a workflow, the reader port behind them (exact samples
 * locally, CloudWatch on AWS), and the exact aggregation of raw samples. Pure.
 */
import type { MetricName } from "./engine/types.ts";

/** One sample the runtime emitted, as the local stack keeps it. */
export interface MetricSample {
  /** Epoch ms. */
  readonly at: number;
  readonly app: string;
  readonly tenant: string;
  readonly name: MetricName;
  readonly value: number;
  /** `workflow`, `activity`, `outcome`, as emitted. */
  readonly dimensions: { readonly [key: string]: string };
}

/** The window and percentiles a query covers. */
export interface MetricsWindow {
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** Percentiles, as numbers in (0, 100]: `[50, 95, 99]`. */
  readonly percentiles: readonly number[];
}

export interface MetricsQuery extends MetricsWindow {
  readonly app: string;
  /** Only this tenant's samples (local); CloudWatch figures cover every tenant of the app. */
  readonly tenant: string;
}

/** An activity's figures over a window. Durations in ms; `null` when there was no attempt. */
export interface ActivityFigures {
  readonly name: string;
  /** Attempts that ran (each retry counts). */
  readonly executions: number;
  /** Attempts that failed. */
  readonly errors: number;
  readonly avgDurationMs: number | null;
  /** By label (`p50`, `p99.9`). */
  readonly percentiles: Readonly<Record<string, number | null>>;
}

/** A workflow's figures over a window (`name` null: every workflow of the app). */
export interface WorkflowFigures {
  readonly name: string | null;
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Executions that ended in the window, per second of the window. */
  readonly throughputPerSecond: number;
  readonly avgDurationMs: number | null;
  /** Start-to-end durations of the executions that ended, by label. */
  readonly percentiles: Readonly<Record<string, number | null>>;
}

/** Reads figures: the local store (exact) or CloudWatch (its percentile statistics). */
export interface MetricsReader {
  /** `local` (every sample kept) or `cloudwatch`. */
  readonly source: "local" | "cloudwatch";
  /** True when percentiles are computed from every sample. */
  readonly exact: boolean;
  activity(query: MetricsQuery, activity: string): Promise<ActivityFigures>;
  /** One entry per name asked, in order; `null` asks for the app's total. */
  workflows(query: MetricsQuery, names: readonly (string | null)[]): Promise<WorkflowFigures[]>;
}

/** Raised for a period or percentile list that cannot be read. */
export class MetricsQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MetricsQueryError";
  }
}

/** The default percentiles: the seed's. */
export const DEFAULT_PERCENTILES: readonly number[] = [50, 95, 99];
/** The default window: one hour. */
export const DEFAULT_PERIOD = "1h";
/** The longest window: CloudWatch keeps 1-minute data for 15 days (and the local store prunes earlier). */
export const MAX_PERIOD_SECONDS = 15 * 24 * 3600;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `5m`, `24h`, `7d` → seconds. @throws MetricsQueryError */
export function parsePeriod(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] ?? ""] ?? 0) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new MetricsQueryError(
      `period '${text}' is not a duration like 90s, 5m, 24h or 7d (a whole number and s, m, h or d)`,
    );
  if (seconds > MAX_PERIOD_SECONDS)
    throw new MetricsQueryError(`period '${text}' is longer than 15d, the longest kept`);
  return seconds;
}

/** `p50,p95,p99.9` → `[50, 95, 99.9]` (order kept, duplicates dropped). @throws MetricsQueryError */
export function parsePercentiles(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const match = /^p(\d{1,2}(?:\.\d{1,3})?|100)$/i.exec(part.trim());
    const value = match ? Number(match[1]) : Number.NaN;
    if (!(value > 0 && value <= 100))
      throw new MetricsQueryError(
        `'${part.trim()}' is not a percentile: write p50, p95, p99.9 (above 0, at most 100)`,
      );
    if (!out.includes(value)) out.push(value);
  }
  return out;
}

/** The label of a percentile: 99.9 → `p99.9`. */
export const percentileLabel = (p: number): string => `p${p}`;

/** The nearest-rank percentile of sorted values (`undefined` when empty). */
export function nearestRank(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function percentilesOf(
  values: number[],
  percentiles: readonly number[],
): Record<string, number | null> {
  values.sort((a, b) => a - b);
  return Object.fromEntries(
    percentiles.map((p) => [percentileLabel(p), nearestRank(values, p) ?? null]),
  );
}

const average = (values: readonly number[]): number | null =>
  values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;

const inWindow = (s: MetricSample, q: MetricsQuery): boolean =>
  s.at >= q.from && s.at < q.to && s.app === q.app && s.tenant === q.tenant;

/** An activity's exact figures from raw samples (ActivityDuration and ActivityErrors, one each per attempt). */
export function activityFigures(
  samples: Iterable<MetricSample>,
  query: MetricsQuery,
  activity: string,
): ActivityFigures {
  const durations: number[] = [];
  let errors = 0;
  for (const s of samples) {
    if (!inWindow(s, query) || s.dimensions.activity !== activity) continue;
    if (s.name === "ActivityDuration") durations.push(s.value);
    else if (s.name === "ActivityErrors") errors += s.value;
  }
  return {
    name: activity,
    executions: durations.length,
    errors,
    avgDurationMs: average(durations),
    percentiles: percentilesOf(durations, query.percentiles),
  };
}

/** A workflow's (or, with `null`, the app's) exact figures from raw samples. */
export function workflowFigures(
  samples: Iterable<MetricSample>,
  query: MetricsQuery,
  name: string | null,
): WorkflowFigures {
  const durations: number[] = [];
  const counts = { started: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const s of samples) {
    if (!inWindow(s, query) || (name !== null && s.dimensions.workflow !== name)) continue;
    if (s.name === "WorkflowStarted") counts.started += s.value;
    else if (s.name === "WorkflowDuration") durations.push(s.value);
    else if (s.name === "WorkflowOutcome") {
      const outcome = s.dimensions.outcome;
      if (outcome === "succeeded" || outcome === "failed" || outcome === "cancelled")
        counts[outcome] += s.value;
    }
  }
  const ended = counts.succeeded + counts.failed + counts.cancelled;
  return {
    name,
    ...counts,
    throughputPerSecond: ended / ((query.to - query.from) / 1000),
    avgDurationMs: average(durations),
    percentiles: percentilesOf(durations, query.percentiles),
  };
}

/** A duration as `cascade metrics` prints it: `12ms` under a second, then `1.25s`, `12.5s`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)}s`;
}

/** An error rate as `cascade metrics` prints it: `0.02%` (two decimals). */
export function formatRate(errors: number, total: number): string {
  return `${total === 0 ? "0.00" : ((errors / total) * 100).toFixed(2)}%`;
}
