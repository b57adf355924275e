/**
 * The local metrics store: exact nearest-rank percentiles over every sample, windows and
 * tenants respected, samples kept in hourly files across a restart and pruned by age.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Metric } from "../../lib/core/engine/index.ts";
import {
  formatDuration,
  formatRate,
  nearestRank,
  parsePercentiles,
  parsePeriod,
} from "../../lib/core/metrics-query.ts";
import type { ExecutionHeader } from "../../lib/core/ports.ts";
import { LocalMetricsStore } from "../../lib/local/metrics-store.ts";

const HOUR = 3600 * 1000;
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);

const header = (tenant = "default", workflow = "Order"): ExecutionHeader =>
  ({ tenant, executionId: "e", app: "shop", workflow }) as unknown as ExecutionHeader;

const attempt = (ms: number, failed: boolean): Metric[] => [
  {
    name: "ActivityDuration",
    value: ms,
    unit: "Milliseconds",
    dimensions: { workflow: "Order", activity: "charge" },
  },
  {
    name: "ActivityErrors",
    value: failed ? 1 : 0,
    unit: "Count",
    dimensions: { workflow: "Order", activity: "charge" },
  },
];

const query = (from: number, to: number, percentiles = [50, 95, 99], tenant = "default") => ({
  app: "shop",
  tenant,
  from,
  to,
  percentiles,
});

test("percentiles are exact nearest-rank over every sample in the window and tenant", async () => {
  let now = T0;
  const store = new LocalMetricsStore({ now: () => now });
  // 1..100 ms, the 7th, 14th, ... attempts failing.
  for (let i = 1; i <= 100; i++) store.emit(header(), attempt(i, i % 7 === 0), T0 + i);
  store.emit(header("acme"), attempt(5000, true), T0 + 50);
  store.emit(header(), attempt(9999, false), T0 - 1);
  now = T0 + 1000;
  const figures = await store.activity(query(T0, T0 + 1000, [50, 95, 99, 99.9]), "charge");
  assert.deepEqual(figures, {
    name: "charge",
    executions: 100,
    errors: 14,
    avgDurationMs: 50.5,
    percentiles: { p50: 50, p95: 95, p99: 99, "p99.9": 100 },
  });
  assert.equal(formatRate(figures.errors, figures.executions), "14.00%");
  const acme = await store.activity(query(T0, T0 + 1000, [50], "acme"), "charge");
  assert.equal(acme.executions, 1);
  assert.equal((await store.activity(query(T0, T0 + 1000), "refund")).avgDurationMs, null);
});

test("workflow figures: starts, outcomes, throughput over the window, duration percentiles", async () => {
  const store = new LocalMetricsStore({ now: () => T0 + 10_000 });
  for (let i = 0; i < 10; i++) {
    const workflow = i < 8 ? "Order" : "Refund";
    const h = header("default", workflow);
    store.emit(
      h,
      [{ name: "WorkflowStarted", value: 1, unit: "Count", dimensions: { workflow } }],
      T0 + i,
    );
    const outcome = i === 3 ? "failed" : i === 4 ? "cancelled" : "succeeded";
    store.emit(
      h,
      [
        {
          name: "WorkflowDuration",
          value: (i + 1) * 100,
          unit: "Milliseconds",
          dimensions: { workflow },
        },
        { name: "WorkflowOutcome", value: 1, unit: "Count", dimensions: { workflow, outcome } },
      ],
      T0 + 1000 + i,
    );
  }
  const [order, total] = await store.workflows(query(T0, T0 + 10_000), ["Order", null]);
  assert.deepEqual(order, {
    name: "Order",
    started: 8,
    succeeded: 6,
    failed: 1,
    cancelled: 1,
    throughputPerSecond: 0.8,
    avgDurationMs: 450,
    percentiles: { p50: 400, p95: 800, p99: 800 },
  });
  assert.equal(total?.started, 10);
  assert.equal(total?.succeeded, 8);
  assert.equal(total?.percentiles.p99, 1000);
});

test("samples survive a restart in hourly files; old ones are pruned, files and all", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "cascade-metrics-")), "metrics");
  let now = T0;
  const first = new LocalMetricsStore({ dir, now: () => now, retentionMs: 2 * HOUR });
  first.emit(header(), attempt(10, false), T0);
  first.emit(header(), attempt(20, true), T0 + HOUR);
  first.emit(header(), attempt(30, false), T0 + 2 * HOUR);
  first.close();
  assert.deepEqual(readdirSync(dir).sort(), [
    "2026-12-01T10.jsonl",
    "2026-12-01T11.jsonl",
    "2026-12-01T12.jsonl",
  ]);

  now = T0 + 2 * HOUR + 1;
  const second = new LocalMetricsStore({ dir, now: () => now, retentionMs: 2 * HOUR });
  const kept = await second.activity(query(T0 - HOUR, now + 1), "charge");
  assert.equal(kept.executions, 2, "the sample older than two hours is gone");
  assert.equal(kept.errors, 1);
  assert.equal(
    existsSync(join(dir, "2026-12-01T10.jsonl")),
    true,
    "a file goes once its whole hour is old",
  );
  now = T0 + 3 * HOUR + 1;
  second.prune();
  assert.equal(existsSync(join(dir, "2026-12-01T10.jsonl")), false, "its hour's file is deleted");

  now = T0 + 5 * HOUR;
  assert.equal((await second.activity(query(0, now), "charge")).executions, 0);
  assert.deepEqual(readdirSync(dir), []);
  second.close();
});

test("a store nobody reads still prunes by age as it writes (a long cascade dev)", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "cascade-metrics-")), "metrics");
  let now = T0;
  const store = new LocalMetricsStore({ dir, now: () => now, retentionMs: 2 * HOUR });
  store.emit(header(), attempt(10, false), T0);
  store.flush();
  assert.equal(store.size, 2);
  // Days later, with samples still arriving and no query: the old hour goes, memory and file.
  now = T0 + 5 * HOUR;
  store.emit(header(), attempt(20, false), now);
  store.flush();
  assert.equal(store.size, 2, "only the new attempt's two samples are held");
  assert.deepEqual(readdirSync(dir), ["2026-12-01T15.jsonl"]);
  store.close();
});

test("periods, percentile lists and the printed formats", () => {
  assert.equal(parsePeriod("24h"), 86_400);
  assert.equal(parsePeriod("90s"), 90);
  assert.equal(parsePeriod("7d"), 604_800);
  for (const bad of ["", "1y", "0m", "1.5h", "16d"])
    assert.throws(() => parsePeriod(bad), /period/);
  assert.deepEqual(parsePercentiles("p50,p95,p99,p99.9,p50"), [50, 95, 99, 99.9]);
  assert.throws(() => parsePercentiles("p0"), /not a percentile/);
  assert.throws(() => parsePercentiles("median"), /not a percentile/);
  assert.equal(nearestRank([], 50), undefined);
  assert.equal(nearestRank([7], 99), 7);
  assert.equal(formatDuration(12.4), "12ms");
  assert.equal(formatDuration(199.6), "200ms");
  assert.equal(formatDuration(1250), "1.25s");
  assert.equal(formatDuration(12_345), "12.3s");
  assert.equal(formatDuration(null), "-");
  assert.equal(formatRate(3, 15_234), "0.02%");
  assert.equal(formatRate(0, 0), "0.00%");
});
