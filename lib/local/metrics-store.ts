/**
 * The local stack's metrics: every sample the runtime emits, kept in memory and (unless
 * ephemeral) appended to hourly JSON-lines files under `<data-dir>/metrics/`, read back
 * on start and pruned by age. Both the runtime's MetricsSink and the API's MetricsReader,
 * so `cascade metrics` against `cascade dev` gives exact figures.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Metric } from "../core/engine/index.ts";
import {
  type ActivityFigures,
  activityFigures,
  type MetricSample,
  type MetricsQuery,
  type MetricsReader,
  type WorkflowFigures,
  workflowFigures,
} from "../core/metrics-query.ts";
import type { ExecutionHeader, MetricsSink } from "../core/ports.ts";

/** The folder of a data folder that holds the samples. */
export const METRICS_DIR_NAME = "metrics";
/** Samples older than this are pruned: 7 days. */
export const METRICS_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Samples are written to disk this often (a `kill -9` loses at most this much): 250 ms. */
const FLUSH_EVERY_MS = 250;
/** A store that is written but never read still drops old samples this often: 1 minute. */
const PRUNE_EVERY_MS = 60_000;
const HOUR_MS = 3600 * 1000;
const FILE = /^(\d{4}-\d{2}-\d{2}T\d{2})\.jsonl$/;

export interface LocalMetricsOptions {
  /** Where files go; without it samples live in memory only. */
  readonly dir?: string;
  /** Default `METRICS_RETENTION_MS`. */
  readonly retentionMs?: number;
  /** Default the system clock. */
  readonly now?: () => number;
}

const hourOf = (at: number): string => new Date(at).toISOString().slice(0, 13);

export class LocalMetricsStore implements MetricsSink, MetricsReader {
  readonly source = "local" as const;
  readonly exact = true;
  readonly #samples: MetricSample[] = [];
  readonly #pending = new Map<string, string[]>();
  readonly #dir: string | undefined;
  readonly #retentionMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(options: LocalMetricsOptions = {}) {
    this.#dir = options.dir;
    this.#retentionMs = options.retentionMs ?? METRICS_RETENTION_MS;
    this.#now = options.now ?? Date.now;
    if (this.#dir) {
      mkdirSync(this.#dir, { recursive: true });
      this.#load(this.#dir);
      this.#timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
      this.#timer.unref();
    }
  }

  /** How many samples are held. */
  get size(): number {
    return this.#samples.length;
  }

  emit(header: ExecutionHeader, metrics: readonly Metric[], at: number): void {
    for (const m of metrics)
      this.#add({
        at,
        app: header.app,
        tenant: header.tenant,
        name: m.name,
        value: m.value,
        dimensions: m.dimensions,
      });
  }

  latencies(app: string, values: readonly number[], at: number): void {
    for (const value of values)
      this.#add({ at, app, tenant: "", name: "TransitionLatency", value, dimensions: {} });
  }

  apiLatency(app: string, ms: number, at: number): void {
    this.#add({ at, app, tenant: "", name: "ApiLatency", value: ms, dimensions: {} });
  }

  async activity(query: MetricsQuery, activity: string): Promise<ActivityFigures> {
    this.prune();
    return activityFigures(this.#samples, query, activity);
  }

  async workflows(
    query: MetricsQuery,
    names: readonly (string | null)[],
  ): Promise<WorkflowFigures[]> {
    this.prune();
    return names.map((name) => workflowFigures(this.#samples, query, name));
  }

  /** Writes what is pending to disk (and, once a minute, prunes: a long session nobody queries stays bounded). */
  flush(): void {
    if (this.#now() - this.#prunedAt >= PRUNE_EVERY_MS) this.prune();
    if (!this.#dir) return;
    for (const [hour, lines] of this.#pending) {
      appendFileSync(join(this.#dir, `${hour}.jsonl`), lines.join(""));
    }
    this.#pending.clear();
  }

  /** Drops samples (and hourly files) older than the retention. */
  prune(): void {
    this.#prunedAt = this.#now();
    const cutoff = this.#prunedAt - this.#retentionMs;
    let drop = 0;
    while (drop < this.#samples.length && (this.#samples[drop]?.at ?? 0) < cutoff) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
    if (!this.#dir) return;
    for (const name of readdirSync(this.#dir)) {
      const hour = FILE.exec(name)?.[1];
      if (hour && Date.parse(`${hour}:00:00Z`) + HOUR_MS <= cutoff)
        rmSync(join(this.#dir, name), { force: true });
    }
  }

  /** Flushes and stops the timer. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #add(sample: MetricSample): void {
    // Samples arrive in time order but for clock skew between batches: keep the array sorted.
    let i = this.#samples.length;
    while (i > 0 && (this.#samples[i - 1]?.at ?? 0) > sample.at) i--;
    this.#samples.splice(i, 0, sample);
    if (!this.#dir) return;
    const hour = hourOf(sample.at);
    const lines = this.#pending.get(hour) ?? [];
    lines.push(`${JSON.stringify(sample)}\n`);
    this.#pending.set(hour, lines);
  }

  #load(dir: string): void {
    const cutoff = this.#now() - this.#retentionMs;
    for (const name of readdirSync(dir).sort()) {
      if (!FILE.test(name)) continue;
      for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
        if (line === "") continue;
        try {
          const sample = JSON.parse(line) as MetricSample;
          if (typeof sample.at === "number" && sample.at >= cutoff) this.#samples.push(sample);
        } catch {
          // A line cut short by a kill: the rest of the file is still good.
        }
      }
    }
    this.#samples.sort((a, b) => a.at - b.at);
    this.prune();
  }
}
