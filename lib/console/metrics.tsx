/** Metrics: what `cascade metrics` prints (per workflow and per activity), and the same figures as charts over time. */
import { useEffect, useState } from "preact/hooks";
import { api, appPath, query } from "./api.ts";
import { BarChart, LineChart } from "./charts.tsx";
import type { ActivityFigures, WorkflowDefinition, WorkflowFigures } from "./types.ts";
import { Card, duration, ErrorBox, usePoll } from "./ui.tsx";

interface WorkflowMetrics {
  readonly items: readonly WorkflowFigures[];
  readonly total: WorkflowFigures | null;
  readonly source: string;
  readonly exact: boolean;
}

/** The chart's buckets: twelve of five minutes, the last hour. */
const BUCKET_MINUTES = 5;
const BUCKETS = 12;
const REFRESH_MS = 10_000;
/** Percentile samples kept while the page is open. */
const MAX_SAMPLES = 60;

const pct = (f: { percentiles: Record<string, number | null> }, p: string) =>
  f.percentiles[p] ?? null;

export function MetricsPage(props: { app: string; workflows: readonly string[] }) {
  const figures = usePoll(
    () => api<WorkflowMetrics>(appPath(props.app, `/metrics/workflows${query({ period: "1h" })}`)),
    [props.app],
    REFRESH_MS,
  );
  // Each bucket's counts are the difference of two trailing windows (5m, 10m, … 60m).
  const buckets = usePoll(
    async () => {
      const windows = await Promise.all(
        Array.from({ length: BUCKETS }, (_, i) =>
          api<WorkflowMetrics>(
            appPath(
              props.app,
              `/metrics/workflows${query({ period: `${(i + 1) * BUCKET_MINUTES}m` })}`,
            ),
          ),
        ),
      );
      const totals = windows.map((w) => w.total);
      return totals
        .map((t, i) => {
          const before = i === 0 ? undefined : totals[i - 1];
          const diff = (k: "succeeded" | "failed" | "cancelled" | "started") =>
            (t?.[k] ?? 0) - (before?.[k] ?? 0);
          return {
            minutesAgo: (i + 1) * BUCKET_MINUTES,
            succeeded: diff("succeeded"),
            failed: diff("failed"),
            cancelled: diff("cancelled"),
            started: diff("started"),
          };
        })
        .reverse();
    },
    [props.app],
    REFRESH_MS * 3,
  );
  const [samples, setSamples] = useState<
    { at: number; p50: number | null; p95: number | null; p99: number | null }[]
  >([]);
  useEffect(() => {
    const t = figures.data?.total;
    if (!t) return;
    setSamples((s) =>
      [...s, { at: Date.now(), p50: pct(t, "p50"), p95: pct(t, "p95"), p99: pct(t, "p99") }].slice(
        -MAX_SAMPLES,
      ),
    );
  }, [figures.data]);
  const activities = useActivities(props.app, props.workflows);

  const labels = (buckets.data ?? []).map((b) => `-${b.minutesAgo}m`);
  return (
    <div class="page metrics" data-testid="metrics">
      <div class="toolbar">
        <h2>Metrics</h2>
        {figures.data && (
          <span class="muted">
            source: {figures.data.source}
            {figures.data.exact ? " (exact samples)" : ""} · window: the last hour
          </span>
        )}
      </div>
      <ErrorBox error={figures.error} />
      <div class="split">
        <Card title="Executions ended, per 5 minutes">
          <BarChart
            testid="chart-outcomes"
            labels={labels}
            series={[
              {
                name: "succeeded",
                className: "c-succeeded",
                values: (buckets.data ?? []).map((b) => b.succeeded),
              },
              {
                name: "failed",
                className: "c-failed",
                values: (buckets.data ?? []).map((b) => b.failed),
              },
              {
                name: "cancelled",
                className: "c-cancelled",
                values: (buckets.data ?? []).map((b) => b.cancelled),
              },
            ]}
          />
        </Card>
        <Card title="Workflow duration (last hour), sampled while this page is open">
          <LineChart
            testid="chart-durations"
            unit=" ms"
            labels={samples.map((s) =>
              new Date(s.at).toLocaleTimeString(undefined, { hour12: false }),
            )}
            series={[
              { name: "p50", className: "c-p50", values: samples.map((s) => s.p50) },
              { name: "p95", className: "c-p95", values: samples.map((s) => s.p95) },
              { name: "p99", className: "c-p99", values: samples.map((s) => s.p99) },
            ]}
          />
        </Card>
      </div>
      <Card title="Workflows">
        <table class="list" data-testid="workflow-metrics">
          <thead>
            <tr>
              <th>workflow</th>
              <th>started</th>
              <th>succeeded</th>
              <th>failed</th>
              <th>cancelled</th>
              <th>per second</th>
              <th>avg</th>
              <th>p50</th>
              <th>p95</th>
              <th>p99</th>
            </tr>
          </thead>
          <tbody>
            {[
              ...(figures.data?.items ?? []),
              ...(figures.data?.total ? [figures.data.total] : []),
            ].map((f) => (
              <tr key={f.name ?? "total"} class={f.name === null ? "total" : ""}>
                <td>{f.name ?? "all"}</td>
                <td>{f.started}</td>
                <td>{f.succeeded}</td>
                <td>{f.failed}</td>
                <td>{f.cancelled}</td>
                <td>{f.throughputPerSecond.toFixed(3)}</td>
                <td>{duration(f.avgDurationMs)}</td>
                <td>{duration(pct(f, "p50"))}</td>
                <td>{duration(pct(f, "p95"))}</td>
                <td>{duration(pct(f, "p99"))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Activities">
        <ErrorBox error={activities.error} />
        <table class="list" data-testid="activity-metrics">
          <thead>
            <tr>
              <th>activity</th>
              <th>executions</th>
              <th>errors</th>
              <th>error rate</th>
              <th>avg</th>
              <th>p50</th>
              <th>p95</th>
              <th>p99</th>
            </tr>
          </thead>
          <tbody>
            {(activities.data ?? []).map((a) => (
              <tr key={a.name}>
                <td>{a.name}</td>
                <td>{a.executions}</td>
                <td>{a.errors}</td>
                <td>{(a.errorRate * 100).toFixed(1)}%</td>
                <td>{duration(a.avgDurationMs)}</td>
                <td>{duration(pct(a, "p50"))}</td>
                <td>{duration(pct(a, "p95"))}</td>
                <td>{duration(pct(a, "p99"))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}

/** Every activity the workflows' Tasks name, with its figures over the last hour. */
function useActivities(app: string, workflows: readonly string[]) {
  return usePoll(
    async () => {
      const definitions = await Promise.all(
        workflows.map((w) =>
          api<WorkflowDefinition>(appPath(app, `/workflows/${encodeURIComponent(w)}`)),
        ),
      );
      const names = [
        ...new Set(
          definitions.flatMap((d) =>
            (d.graph?.nodes ?? []).flatMap((n) => (n.activity ? [n.activity] : [])),
          ),
        ),
      ].sort();
      return Promise.all(
        names.map((n) =>
          api<ActivityFigures>(
            appPath(app, `/metrics/activities/${encodeURIComponent(n)}${query({ period: "1h" })}`),
          ),
        ),
      );
    },
    [app, workflows.join(",")],
    REFRESH_MS * 3,
  );
}
