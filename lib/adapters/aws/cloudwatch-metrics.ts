/**
 * `cascade metrics` on AWS: the MetricsReader over CloudWatch's `GetMetricData`, on the
 * EMF metrics the runtime writes (namespace `Cascade`). Percentiles are CloudWatch's
 * percentile statistics, not exact: see docs/cli.md.
 */
import {
  type CloudWatchClient,
  type Dimension,
  GetMetricDataCommand,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import {
  type ActivityFigures,
  type MetricsQuery,
  type MetricsReader,
  percentileLabel,
  type WorkflowFigures,
} from "../../core/metrics-query.ts";
import { METRICS } from "../../manifest/index.ts";

/** GetMetricData takes at most 500 queries per call. */
const MAX_QUERIES_PER_CALL = 500;
/** Standard-resolution metrics have periods in whole minutes. */
const PERIOD_STEP_SECONDS = 60;

interface Wanted {
  readonly metric: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum`, `SampleCount`, `Average`, `p99`, ... */
  readonly stat: string;
}

/** Sums a result's values (counts over several data points). */
const sum = (r: MetricDataResult | undefined): number =>
  (r?.Values ?? []).reduce((total, v) => total + v, 0);

/**
 * The value of a statistic that cannot be added up (average, percentile): when the
 * window spans more than one data point, the one with the most samples.
 */
function pick(r: MetricDataResult | undefined, counts: MetricDataResult | undefined) {
  const values = r?.Values ?? [];
  if (values.length === 0) return null;
  if (values.length === 1) return values[0] ?? null;
  const byTime = new Map<number, number>();
  for (const [i, t] of (counts?.Timestamps ?? []).entries())
    byTime.set(new Date(t).getTime(), counts?.Values?.[i] ?? 0);
  let best = 0;
  let bestCount = -1;
  for (const [i, t] of (r?.Timestamps ?? []).entries()) {
    const n = byTime.get(new Date(t).getTime()) ?? 0;
    if (n > bestCount) {
      best = i;
      bestCount = n;
    }
  }
  return values[best] ?? null;
}

export class CloudWatchMetricsReader implements MetricsReader {
  readonly source = "cloudwatch" as const;
  readonly exact = false;
  readonly #client: CloudWatchClient;
  readonly #namespace: string;

  /** @param client built once per process (at the handler's module scope). */
  constructor(client: CloudWatchClient, namespace: string = METRICS.namespace) {
    this.#client = client;
    this.#namespace = namespace;
  }

  async activity(query: MetricsQuery, activity: string): Promise<ActivityFigures> {
    const dims = { app: query.app, activity };
    const wanted: Wanted[] = [
      { metric: "ActivityDuration", dimensions: dims, stat: "SampleCount" },
      { metric: "ActivityDuration", dimensions: dims, stat: "Average" },
      { metric: "ActivityErrors", dimensions: dims, stat: "Sum" },
      ...query.percentiles.map((p) => ({
        metric: "ActivityDuration",
        dimensions: dims,
        stat: percentileLabel(p),
      })),
    ];
    const r = await this.#fetch(query, wanted);
    const count = sum(r[0]);
    return {
      name: activity,
      executions: count,
      errors: sum(r[2]),
      avgDurationMs: count === 0 ? null : pick(r[1], r[0]),
      percentiles: Object.fromEntries(
        query.percentiles.map((p, i) => [
          percentileLabel(p),
          count === 0 ? null : pick(r[3 + i], r[0]),
        ]),
      ),
    };
  }

  async workflows(
    query: MetricsQuery,
    names: readonly (string | null)[],
  ): Promise<WorkflowFigures[]> {
    const outcomes = ["succeeded", "failed", "cancelled"] as const;
    const per = 5 + query.percentiles.length;
    const wanted: Wanted[] = names.flatMap((name) => {
      const dims: Record<string, string> =
        name === null ? { app: query.app } : { app: query.app, workflow: name };
      return [
        { metric: "WorkflowStarted", dimensions: dims, stat: "Sum" },
        ...outcomes.map((outcome) => ({
          metric: "WorkflowOutcome",
          dimensions: { ...dims, outcome },
          stat: "Sum",
        })),
        { metric: "WorkflowDuration", dimensions: dims, stat: "SampleCount" },
        ...query.percentiles.map((p) => ({
          metric: "WorkflowDuration",
          dimensions: dims,
          stat: percentileLabel(p),
        })),
      ];
    });
    wanted.push(
      ...names.map((name) => ({
        metric: "WorkflowDuration",
        dimensions: name === null ? { app: query.app } : { app: query.app, workflow: name },
        stat: "Average",
      })),
    );
    const r = await this.#fetch(query, wanted);
    const seconds = (query.to - query.from) / 1000;
    return names.map((name, n) => {
      const at = n * per;
      const [succeeded, failed, cancelled] = [sum(r[at + 1]), sum(r[at + 2]), sum(r[at + 3])];
      const counts = r[at + 4];
      const measured = sum(counts) > 0;
      return {
        name,
        started: sum(r[at]),
        succeeded,
        failed,
        cancelled,
        throughputPerSecond: (succeeded + failed + cancelled) / seconds,
        avgDurationMs: measured ? pick(r[names.length * per + n], counts) : null,
        percentiles: Object.fromEntries(
          query.percentiles.map((p, i) => [
            percentileLabel(p),
            measured ? pick(r[at + 5 + i], counts) : null,
          ]),
        ),
      };
    });
  }

  /** Runs the queries (500 a call, following NextToken); results in the order asked. */
  async #fetch(
    query: MetricsQuery,
    wanted: readonly Wanted[],
  ): Promise<(MetricDataResult | undefined)[]> {
    const windowSeconds = Math.round((query.to - query.from) / 1000);
    const period = Math.max(
      PERIOD_STEP_SECONDS,
      Math.ceil(windowSeconds / PERIOD_STEP_SECONDS) * PERIOD_STEP_SECONDS,
    );
    const byId = new Map<string, MetricDataResult>();
    for (let first = 0; first < wanted.length; first += MAX_QUERIES_PER_CALL) {
      const queries: MetricDataQuery[] = wanted
        .slice(first, first + MAX_QUERIES_PER_CALL)
        .map((w, i) => ({
          Id: `q${first + i}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: this.#namespace,
              MetricName: w.metric,
              Dimensions: Object.entries(w.dimensions).map(
                ([Name, Value]): Dimension => ({ Name, Value }),
              ),
            },
            Period: period,
            Stat: w.stat,
          },
        }));
      let token: string | undefined;
      do {
        const out = await this.#client.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(query.from),
            EndTime: new Date(query.to),
            ScanBy: "TimestampDescending",
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
        for (const result of out.MetricDataResults ?? []) {
          if (!result.Id) continue;
          const seen = byId.get(result.Id);
          byId.set(
            result.Id,
            seen
              ? {
                  ...seen,
                  Timestamps: [...(seen.Timestamps ?? []), ...(result.Timestamps ?? [])],
                  Values: [...(seen.Values ?? []), ...(result.Values ?? [])],
                }
              : result,
          );
        }
        token = out.NextToken;
      } while (token);
    }
    return wanted.map((_, i) => byId.get(`q${i}`));
  }
}
