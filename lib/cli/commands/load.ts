/**
 * `cascade load`: the guide's loop of `cascade process start` as one command. Starts
 * `--count` executions (or as many as `--duration` allows), `--concurrency` at a time,
 * at most `--rate` per second, over the HTTP API; measures each start's latency (the
 * POST's round trip) and each execution's end-to-end latency (its own start-to-end
 * duration, as the runtime recorded it), and reports throughput, percentiles, errors
 * by code and the slowest executions. Ctrl-C stops starting and reports what it has.
 */
import { randomBytes } from "node:crypto";
import type { JsonValue } from "../../core/expr/index.ts";
import { nearestRank } from "../../core/metrics-query.ts";
import { MAX_SYNC_WAIT_SECONDS } from "../../manifest/index.ts";
import { ApiError, ApiUnavailableError, seg } from "../api-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { readJsonArgument } from "../json-input.ts";
import { connect, type ProcessCommonOptions } from "./process.ts";

/** The API options of `process` (endpoint, app, tenant, token, SigV4), and the load's. */
export interface LoadOptions extends ProcessCommonOptions {
  readonly workflow: string;
  /** JSON (or @file, -) in which `{{ i }}` inside strings becomes the execution's number (1, 2, ...). */
  readonly input: string;
  /** Executions to start. Default 100, or unbounded with `duration`. */
  readonly count?: number;
  /** Executions in flight at once. Default 10. */
  readonly concurrency: number;
  /** Stop starting after this many seconds. */
  readonly durationSeconds?: number;
  /** Starts per second at most. */
  readonly ratePerSecond?: number;
  /** Give up on one execution after this many seconds. Default 300. */
  readonly timeoutSeconds: number;
  /** Stops the run early (Ctrl-C); default: SIGINT of this process. */
  readonly signal?: AbortSignal;
}

/** What `cascade load` prints at the end (`--format json`). Latencies in ms. */
export interface LoadReport {
  readonly workflow: string;
  readonly requested: number | null;
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Started but not seen to end (interrupted, or past `--timeout`). */
  readonly unfinished: number;
  readonly elapsedMs: number;
  /** Executions that ended, per second of the run. */
  readonly throughputPerSecond: number;
  readonly startLatencyMs: Percentiles;
  readonly endToEndMs: Percentiles;
  /** By code: the API's error code for starts it refused, the workflow error's name for failures. */
  readonly errors: Readonly<Record<string, number>>;
  /** The slowest executions that ended, slowest first. */
  readonly slowest: readonly {
    readonly id: string;
    readonly ms: number;
    readonly status: string;
  }[];
  readonly interrupted: boolean;
}

interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** How many of the slowest executions the report names. */
const SLOWEST = 5;
/** The longest one synchronous wait may last (API Gateway's integration timeout, lib/manifest). */
const WAIT_SECONDS = MAX_SYNC_WAIT_SECONDS;
/** How often the progress bar is redrawn. */
const PROGRESS_EVERY_MS = 200;
const BAR_WIDTH = 24;

const TEMPLATE = /\{\{\s*i\s*\}\}/g;

/** Replaces `{{ i }}` in every string of `value`. */
export function instantiate(value: JsonValue, i: number): JsonValue {
  if (typeof value === "string") return value.replace(TEMPLATE, String(i));
  if (Array.isArray(value)) return value.map((v) => instantiate(v, i));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, instantiate(v, i)]));
  return value;
}

function percentiles(values: number[]): Percentiles {
  values.sort((a, b) => a - b);
  return {
    p50: nearestRank(values, 50) ?? null,
    p95: nearestRank(values, 95) ?? null,
    p99: nearestRank(values, 99) ?? null,
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

const ms = (value: number | null): string =>
  value === null ? "-" : value < 1000 ? `${Math.round(value)}ms` : `${(value / 1000).toFixed(2)}s`;

/** `cascade load`: exit 0 when every execution succeeded, 2 when any failed or was refused, 130 when interrupted. */
export async function runLoad(options: LoadOptions, io: CliIo): Promise<ExitCode> {
  const template = await readJsonArgument(options.input, "--input", io);
  const { client, app } = await connect(options, io, (WAIT_SECONDS + 15) * 1000);
  const path = `/v1/apps/${seg(app)}/workflows/${seg(options.workflow)}/executions`;

  const stop = new AbortController();
  const onSigint = () => stop.abort();
  if (options.signal) options.signal.addEventListener("abort", onSigint, { once: true });
  else process.once("SIGINT", onSigint);

  const requested =
    options.count ?? (options.durationSeconds === undefined ? 100 : Number.POSITIVE_INFINITY);
  const run = `load-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const began = performance.now();
  const deadline =
    options.durationSeconds === undefined
      ? Number.POSITIVE_INFINITY
      : began + options.durationSeconds * 1000;
  const startLatencies: number[] = [];
  const ends: { id: string; ms: number; status: string }[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  let started = 0;
  let succeeded = 0;
  let failed = 0;
  let refused = 0;
  const count = (code: string) => errors.set(code, (errors.get(code) ?? 0) + 1);

  const progress = () => {
    const elapsed = (performance.now() - began) / 1000;
    const done = succeeded + failed;
    const total = Number.isFinite(requested) ? requested : Math.max(next, 1);
    const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
    const bar = `${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}`;
    const of = Number.isFinite(requested) ? `/${requested}` : "";
    io.stdout(
      `\r\u001b[2K[${bar}] ${done}${of} ended  ${(done / Math.max(elapsed, 0.001)).toFixed(1)}/s  errors ${failed + refused}  ${elapsed.toFixed(1)}s`,
    );
  };
  const ticker =
    io.isTty && options.format === "text" ? setInterval(progress, PROGRESS_EVERY_MS) : undefined;

  const one = async (i: number): Promise<void> => {
    const id = `${run}-${i}`;
    const input = instantiate(template, i);
    const t0 = performance.now();
    try {
      await client.request("POST", path, { input, id });
    } catch (error) {
      if (error instanceof ApiUnavailableError) throw error;
      refused++;
      count(error instanceof ApiError ? error.code : "CLIENT_ERROR");
      return;
    }
    started++;
    startLatencies.push(performance.now() - t0);
    const giveUp = t0 + options.timeoutSeconds * 1000;
    while (!stop.signal.aborted) {
      const left = Math.ceil((giveUp - performance.now()) / 1000);
      if (left <= 0) {
        count("LOAD_TIMEOUT");
        return;
      }
      // A long poll for the end: one request instead of many GETs, and never the start
      // again (a retried start re-sends its first step, running its first activity
      // twice while it still runs). Ctrl-C cuts it: the execution is then unfinished.
      let body: Record<string, unknown>;
      try {
        ({ body } = await client.request<Record<string, unknown>>(
          "GET",
          `/v1/apps/${seg(app)}/executions/${seg(id)}?wait=${Math.min(WAIT_SECONDS, left)}`,
          undefined,
          { signal: stop.signal },
        ));
      } catch (error) {
        if (stop.signal.aborted) return;
        // API Gateway cut the wait at its integration timeout, or the function was throttled.
        if (error instanceof ApiError && (error.status === 504 || error.status === 503)) continue;
        if (!(error instanceof ApiError)) throw error;
        count(error.code);
        return;
      }
      if (body.status === "running") continue;
      const status = String(body.status);
      const took = typeof body.durationMs === "number" ? body.durationMs : performance.now() - t0;
      ends.push({ id, ms: took, status });
      if (status === "succeeded") succeeded++;
      else {
        failed++;
        const name = (body.error as { name?: unknown } | null | undefined)?.name;
        count(typeof name === "string" ? name : status);
      }
      return;
    }
  };

  const worker = async () => {
    while (!stop.signal.aborted && next < requested && performance.now() < deadline) {
      const i = ++next;
      if (options.ratePerSecond !== undefined) {
        await sleep(
          began + ((i - 1) * 1000) / options.ratePerSecond - performance.now(),
          stop.signal,
        );
        if (stop.signal.aborted || performance.now() >= deadline) {
          next--;
          return;
        }
      }
      await one(i);
    }
  };

  let unreachable: unknown;
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.concurrency, requested)) }, () =>
        worker().catch((error: unknown) => {
          unreachable ??= error;
          stop.abort();
        }),
      ),
    );
  } finally {
    if (ticker) clearInterval(ticker);
    if (options.signal) options.signal.removeEventListener("abort", onSigint);
    else process.removeListener("SIGINT", onSigint);
  }
  if (ticker) {
    progress();
    io.stdout("\n");
  }
  if (unreachable && started === 0 && refused === 0) throw unreachable;

  const elapsedMs = performance.now() - began;
  const interrupted = stop.signal.aborted && unreachable === undefined;
  if (unreachable) count("API_UNREACHABLE");
  const report: LoadReport = {
    workflow: options.workflow,
    requested: Number.isFinite(requested) ? requested : null,
    started,
    succeeded,
    failed,
    unfinished: started - succeeded - failed,
    elapsedMs: Math.round(elapsedMs),
    throughputPerSecond: (succeeded + failed) / (elapsedMs / 1000),
    startLatencyMs: percentiles(startLatencies),
    endToEndMs: percentiles(ends.map((e) => e.ms)),
    errors: Object.fromEntries([...errors].sort((a, b) => b[1] - a[1])),
    slowest: [...ends].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST),
    interrupted,
  };
  if (options.format === "json") io.stdout(`${JSON.stringify(report)}\n`);
  else printReport(report, io);
  if (interrupted) return EXIT.INTERRUPTED;
  return report.succeeded === report.started && refused === 0 && report.unfinished === 0
    ? EXIT.OK
    : EXIT.EXECUTION_FAILED;
}

function printReport(r: LoadReport, io: CliIo): void {
  const p = (x: Percentiles) => `p50 ${ms(x.p50)}  p95 ${ms(x.p95)}  p99 ${ms(x.p99)}`;
  const errors = Object.entries(r.errors);
  const rows: [string, string][] = [
    [
      "executions",
      `${r.started} started: ${r.succeeded} succeeded, ${r.failed} failed, ${r.unfinished} unfinished${r.interrupted ? " (interrupted)" : ""}`,
    ],
    ["elapsed", ms(r.elapsedMs)],
    ["throughput", `${r.throughputPerSecond.toFixed(1)}/s ended`],
    ["start", p(r.startLatencyMs)],
    ["end-to-end", p(r.endToEndMs)],
    ["errors", errors.length === 0 ? "none" : errors.map(([code, n]) => `${code} ${n}`).join(", ")],
    ["slowest", r.slowest.map((s) => `${s.id} ${ms(s.ms)}`).join(", ") || "-"],
  ];
  for (const [key, value] of rows) io.stdout(`${key.padEnd(11)} ${value}\n`);
}
