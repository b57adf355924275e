/**
 * Metrics as CloudWatch Embedded Metric Format lines (namespace `Cascade`): on Lambda
 * a log line is a metric. Behind the MetricsSink port, so the local stack can keep
 * the same samples for `cascade metrics`.
 */
import type { Metric } from "../core/engine/index.ts";
import type { ExecutionHeader, MetricsSink } from "../core/ports.ts";

/** The namespace of every Cascade metric. */
export const METRICS_NAMESPACE = "Cascade";

export class EmfMetrics implements MetricsSink {
  readonly #log: (line: string) => void;

  /** @param log where EMF lines go (Lambda: standard output). */
  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  emit(header: ExecutionHeader, metrics: readonly Metric[], at: number): void {
    // One EMF line for metrics that share their dimensions (a log line costs per byte).
    const first = metrics[0];
    if (!first) return;
    const dimensions = { app: header.app, ...first.dimensions };
    const sets = [["app"], Object.keys(dimensions)];
    // Also per activity (or outcome) across workflows: what `cascade metrics` reads on AWS.
    const across = Object.keys(first.dimensions).filter((k) => k !== "workflow");
    if ("workflow" in first.dimensions && across.length > 0) sets.push(["app", ...across]);
    this.#line(at, sets, metrics, {
      ...dimensions,
      ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
      execution: header.executionId,
    });
  }

  latencies(app: string, values: readonly number[], at: number): void {
    if (values.length === 0) return;
    // One line per batch, its values as an array: CloudWatch takes percentiles of them.
    this.#line(
      at,
      [["app"]],
      [{ name: "TransitionLatency", unit: "Milliseconds", value: 0, dimensions: {} }],
      { app, TransitionLatency: [...values] },
    );
  }

  records(app: string, received: number, failed: number, at: number): void {
    // A batch whose every record fails still returns normally (partial batch failure), so
    // Lambda's Errors never see it: this metric does.
    this.#line(
      at,
      [["app"]],
      [
        { name: "BatchRecords", unit: "Count", value: received, dimensions: {} },
        { name: "FailedRecords", unit: "Count", value: failed, dimensions: {} },
      ],
      { app, BatchRecords: received, FailedRecords: failed },
    );
  }

  apiLatency(app: string, ms: number, at: number): void {
    this.#line(
      at,
      [["app"]],
      [{ name: "ApiLatency", unit: "Milliseconds", value: ms, dimensions: {} }],
      { app, ApiLatency: ms },
    );
  }

  #line(
    at: number,
    dimensions: string[][],
    metrics: readonly Metric[],
    fields: Record<string, unknown>,
  ): void {
    this.#log(
      JSON.stringify({
        _aws: {
          Timestamp: at,
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              // Each metric also rolls up per app, for dashboards and alarms.
              Dimensions: dimensions,
              Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
            },
          ],
        },
        ...fields,
      }),
    );
  }
}
