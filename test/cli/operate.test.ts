/**
 * Operating an app, as a user does, against `cascade dev` (a child process): `cascade
 * metrics activity|workflow` (exact figures, the seed's JSON, kept across a restart),
 * the metrics routes of the HTTP API, and `cascade load` (report, errors by code,
 * Ctrl-C printing what it has). Every command runs as a real process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { formatDuration } from "../../lib/core/metrics-query.ts";
import { repoPath } from "../helpers.ts";
import { CASCADE, type CliResult, NODE, runCli } from "./cli-process.ts";
import { type DevProcess, startDev, writeApp } from "./dev-process.ts";

const APP = {
  // Tracing is the deployed functions'; cascade dev says it does not trace.
  "cascade.yaml": "name: ops\ntracing: { exporter: otlp, endpoint: 'http://127.0.0.1:9' }\n",
  "workflows/good.yaml": `name: Good
states:
  - { name: Work, type: Task, resource: "urn:cascade:activity:work", result: $.work, end: true }
`,
  "workflows/bad.yaml": `name: Bad
states:
  - { name: Fail, type: Task, resource: "urn:cascade:activity:fail", end: true }
`,
  "workflows/slow.yaml": `name: Slow
states:
  - { name: Nap, type: Task, resource: "urn:cascade:activity:nap", end: true }
`,
  "workflows/long.yaml": `name: Long
states:
  - { name: Doze, type: Task, resource: "urn:cascade:activity:doze", timeout: 50s, end: true }
`,
  "activities/index.ts": `export async function doze() {
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  return {};
}
export async function work(input: { test_id?: string }) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return { id: input.test_id ?? null };
}
export async function fail() {
  throw Object.assign(new Error("no luck"), { name: "Boom", retryable: false });
}
export async function nap() {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {};
}
`,
};

let dir = "";
let dev: DevProcess | undefined;
const cli = (...args: string[]): Promise<CliResult> => {
  if (!dev) throw new Error("cascade dev is not running");
  return runCli([...args, "--endpoint", dev.url], { timeoutMs: 120_000 });
};
const json = <T = Record<string, unknown>>(result: CliResult, code = 0): T => {
  assert.equal(result.code, code, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

before(async () => {
  dir = writeApp(APP);
  dev = await startDev(dir, ["--no-watch"]);
  const note = dev.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(
    note.some((l) => l.kind === "tracing" && l.level === "warn"),
    "cascade dev says it does not trace",
  );
});
after(async () => {
  assert.equal(await dev?.stop(), 0, "cascade dev stops cleanly on SIGTERM");
});

const goodDurations: number[] = [];

/**
 * A printed duration (`112ms`) is the execution's `durationMs`, less the time from the
 * step's clock reading (the metric) to its commit (the record's end): a few ms at most
 * on an idle machine, more on a loaded one. Exactness itself: test/local/metrics-store.test.ts.
 */
function near(printed: unknown, ms: number): void {
  const shown = Array.from({ length: 52 }, (_, i) => formatDuration(ms + 1 - i));
  assert.ok(shown.includes(String(printed)), `${String(printed)} is not ${ms}ms (-50..+1)`);
}

test("metrics activity prints exactly the seed's fields; metrics workflow counts by outcome", async () => {
  for (let i = 0; i < 4; i++) {
    const body = json<{ status: string; durationMs: number }>(
      await cli(
        "process",
        "start",
        "--workflow",
        "Good",
        "--input",
        `{"test_id":"${i}"}`,
        "--wait",
        "20",
        "--format",
        "json",
      ),
    );
    assert.equal(body.status, "succeeded");
    goodDurations.push(body.durationMs);
  }
  for (let i = 0; i < 2; i++) {
    const body = json<{ status: string }>(
      await cli("process", "start", "--workflow", "Bad", "--wait", "20", "--format", "json"),
      2,
    );
    assert.equal(body.status, "failed");
  }

  const work = json<Record<string, unknown>>(
    await cli("metrics", "activity", "work", "--period", "24h", "--format", "json"),
  );
  assert.deepEqual(Object.keys(work), [
    "name",
    "executions",
    "avg_duration",
    "p50",
    "p95",
    "p99",
    "error_rate",
  ]);
  assert.equal(work.name, "work");
  assert.equal(work.executions, 4);
  assert.equal(work.error_rate, "0.00%");
  for (const key of ["avg_duration", "p50", "p95", "p99"])
    assert.match(String(work[key]), /^\d+ms$/);

  const fail = json<Record<string, unknown>>(
    await cli("metrics", "activity", "fail", "--format", "json"),
  );
  assert.equal(fail.executions, 2);
  assert.equal(fail.error_rate, "100.00%");

  const all = json<Record<string, unknown>[]>(
    await cli("metrics", "workflow", "--period", "1h", "--format", "json"),
  );
  assert.deepEqual(
    all.map((w) => [w.name, w.started, w.succeeded, w.failed, w.cancelled]),
    [
      ["Bad", 2, 0, 2, 0],
      ["Good", 4, 4, 0, 0],
      ["Long", 0, 0, 0, 0],
      ["Slow", 0, 0, 0, 0],
    ],
  );
  assert.match(String(all[1]?.throughput), /^\d+\.\d\d\/s$/);
});

test("the figures are exact: p99.9 of a workflow is its slowest execution's duration", async () => {
  const good = json<Record<string, unknown>>(
    await cli("metrics", "workflow", "Good", "--percentiles", "p50,p99.9", "--format", "json"),
  );
  assert.ok("p99.9" in good && !("p95" in good), JSON.stringify(good));
  // The metric is read at the step's clock, the record's durationMs at its commit: a millisecond apart at most.
  near(good["p99.9"], Math.max(...goodDurations));
  const sorted = [...goodDurations].sort((a, b) => a - b);
  near(good.p50, sorted[1] ?? -1);
});

test("text output is a headed table; bad flags exit 64; the API answers the same figures", async () => {
  const text = await cli("metrics", "workflow");
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trimEnd().split("\n");
  assert.match(
    lines[0] ?? "",
    /^name\s+started\s+succeeded\s+failed\s+cancelled\s+throughput\s+avg_duration\s+p50\s+p95\s+p99$/,
  );
  assert.match(lines.at(-1) ?? "", /^\(all\)\s+6\s+4\s+2\s+0\s/);

  const badPeriod = await cli("metrics", "activity", "work", "--period", "2y");
  assert.equal(badPeriod.code, 64);
  assert.match(badPeriod.stderr, /period '2y'/);
  const badList = await cli("metrics", "workflow", "--percentiles", "median");
  assert.equal(badList.code, 64);

  const url = dev?.url ?? "";
  const answer = await fetch(`${url}/v1/apps/ops/metrics/activities/work?period=24h`);
  assert.equal(answer.status, 200);
  const body = (await answer.json()) as Record<string, unknown>;
  assert.equal(body.executions, 4);
  assert.equal(body.source, "local");
  assert.equal(body.exact, true);
  const unknown = await fetch(`${url}/v1/apps/ops/metrics/workflows/Nope`);
  assert.equal(unknown.status, 404);
  const invalid = await fetch(`${url}/v1/apps/ops/metrics/workflows?period=soon`);
  assert.equal(invalid.status, 400);
  assert.equal(((await invalid.json()) as { error: { code: string } }).error.code, "INVALID_QUERY");
  const tenant = await fetch(`${url}/v1/apps/ops/metrics/activities/work`, {
    headers: { "x-cascade-tenant": "other" },
  });
  // Another tenant's samples are not this one's (a pooled app without tenants refuses it).
  assert.ok(
    tenant.status === 403 || ((await tenant.json()) as { executions: number }).executions === 0,
  );
});

test("the samples are kept under .cascade/ across a restart", async () => {
  assert.equal(await dev?.stop(), 0);
  dev = await startDev(dir, ["--no-watch"]);
  const work = json<Record<string, unknown>>(
    await cli("metrics", "activity", "work", "--format", "json"),
  );
  assert.equal(work.executions, 4);
  const good = json<Record<string, unknown>>(
    await cli("metrics", "workflow", "Good", "--percentiles", "p99.9", "--format", "json"),
  );
  near(good["p99.9"], Math.max(...goodDurations));
});

interface Report {
  requested: number | null;
  started: number;
  succeeded: number;
  failed: number;
  unfinished: number;
  throughputPerSecond: number;
  startLatencyMs: Record<string, number | null>;
  endToEndMs: Record<string, number | null>;
  errors: Record<string, number>;
  slowest: { id: string; ms: number; status: string }[];
  interrupted: boolean;
}

test("cascade load: the seed's loop as one command, reported; metrics count what it started", async () => {
  const report = json<Report>(
    await cli(
      "load",
      "--app",
      "ops",
      "--workflow",
      "Good",
      "--input",
      '{"test_id":"{{ i }}"}',
      "--count",
      "30",
      "--concurrency",
      "10",
      "--format",
      "json",
    ),
  );
  assert.equal(report.requested, 30);
  assert.equal(report.started, 30);
  assert.equal(report.succeeded, 30);
  assert.equal(report.unfinished, 0);
  assert.deepEqual(report.errors, {});
  assert.ok(report.throughputPerSecond > 0);
  for (const p of ["p50", "p95", "p99"]) {
    assert.equal(typeof report.startLatencyMs[p], "number");
    assert.equal(typeof report.endToEndMs[p], "number");
  }
  assert.equal(report.slowest.length, 5);
  assert.ok((report.slowest[0]?.ms ?? 0) >= (report.slowest[4]?.ms ?? 0));
  assert.match(report.slowest[0]?.id ?? "", /^load-[a-z0-9]+-[0-9a-f]{6}-\d+$/);
  // The input's {{ i }} became the execution's number.
  const id = report.slowest[0]?.id ?? "";
  const got = json<{ output: { work: { id: string } } }>(
    await cli("process", "get", id, "--format", "json"),
  );
  assert.equal(got.output.work.id, id.split("-").at(-1));

  const good = json<Record<string, unknown>>(
    await cli("metrics", "workflow", "Good", "--format", "json"),
  );
  assert.equal(good.started, 34);
});

test("cascade load counts failures by code and exits 2; text output names each figure", async () => {
  const failing = json<Report>(
    await cli(
      "load",
      "--workflow",
      "Bad",
      "--count",
      "5",
      "--concurrency",
      "5",
      "--format",
      "json",
    ),
    2,
  );
  assert.equal(failing.failed, 5);
  assert.deepEqual(failing.errors, { Boom: 5 });

  const text = await cli("load", "--workflow", "Good", "--count", "3", "--rate", "20/s");
  assert.equal(text.code, 0, text.stderr);
  for (const key of [
    "executions",
    "elapsed",
    "throughput",
    "start",
    "end-to-end",
    "errors",
    "slowest",
  ])
    assert.match(text.stdout, new RegExp(`^${key}\\s`, "m"));
  assert.match(text.stdout, /^executions\s+3 started: 3 succeeded/m);
  assert.ok(!text.stdout.includes("\u001b[2K"), "no progress bar off a terminal");
});

/** Runs `cascade ...args` on a pseudo-terminal (util-linux `script`), as a user at a terminal does. */
function onTerminal(args: readonly string[]): Promise<CliResult> {
  const quoted = [NODE, CASCADE, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", quoted, "/dev/null"], {
      cwd: repoPath(),
      env: { ...process.env, CASCADE_ENDPOINT: "" },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr: "" }));
  });
}

test("on a terminal: a progress bar while loading, a bold header on the metrics table", async () => {
  const url = dev?.url ?? "";
  const load = await onTerminal([
    "load",
    "--endpoint",
    url,
    "--workflow",
    "Good",
    "--count",
    "12",
    "--concurrency",
    "3",
    "--rate",
    "6/s",
  ]);
  assert.equal(load.code, 0, load.stdout);
  // Redrawn in place: count, rate, errors and elapsed time.
  const bars = load.stdout
    .split("\r\u001b[2K")
    .filter((frame) =>
      /^\[[#.]{24}\] \d+\/12 ended {2}[\d.]+\/s {2}errors 0 {2}[\d.]+s/.test(frame),
    );
  assert.ok(bars.length >= 3, JSON.stringify(load.stdout.slice(0, 400)));
  assert.match(load.stdout, /\[#{24}\] 12\/12 ended/);
  assert.match(load.stdout, /^executions\s+12 started: 12 succeeded/m);
  // 12 starts at 6 a second: the last one no sooner than 11/6 s after the first.
  const elapsed = /^elapsed\s+([\d.]+)(ms|s)/m.exec(load.stdout);
  assert.ok(elapsed);
  assert.ok(Number(elapsed[1]) * (elapsed[2] === "s" ? 1000 : 1) >= 1800, elapsed[0]);

  const table = await onTerminal(["metrics", "workflow", "Good", "--endpoint", url]);
  assert.equal(table.code, 0, table.stdout);
  const [header = ""] = table.stdout.split("\n");
  assert.ok(header.startsWith("\u001b[1mname"), JSON.stringify(header));
  assert.match(header, /^.{4}name\s+started\s+succeeded\s+failed\s+cancelled\s+throughput/);
  assert.ok(header.replace(/\r$/, "").endsWith("\u001b[0m"), JSON.stringify(header));
  assert.match(table.stdout, /\nGood\s+\d+\s+\d+\s+0\s+0\s+[\d.]+\/s\s/);
});

test("cascade load --duration stops starting when the time is up; --rate paces the starts", async () => {
  const report = json<Report & { elapsedMs: number }>(
    await cli(
      "load",
      "--workflow",
      "Good",
      "--duration",
      "2s",
      "--rate",
      "5/s",
      "--concurrency",
      "4",
      "--format",
      "json",
    ),
  );
  assert.equal(report.requested, null, "unbounded: --duration decides");
  // Starts at 0, 0.2, ..., 1.8 s: ten, give or take the one at the edge.
  assert.ok(report.started >= 9 && report.started <= 11, `started ${report.started}`);
  assert.equal(report.succeeded, report.started);
  assert.ok(report.elapsedMs >= 1_800, `elapsed ${report.elapsedMs}`);
});

test("Ctrl-C stops cascade load and prints what it has (exit 130)", async () => {
  const child = spawn(
    NODE,
    [
      CASCADE,
      "load",
      "--endpoint",
      dev?.url ?? "",
      "--workflow",
      "Slow",
      "--count",
      "1000",
      "--concurrency",
      "4",
      "--format",
      "json",
    ],
    { cwd: repoPath(), env: { ...process.env, CASCADE_ENDPOINT: "" } },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const code = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  child.kill("SIGINT");
  assert.equal(await code, 130);
  const report = JSON.parse(stdout) as Report;
  assert.equal(report.interrupted, true);
  assert.equal(report.requested, 1000);
  assert.ok(report.started > 0 && report.started < 1000, `started ${report.started}`);
  assert.ok(report.succeeded > 0);
});

test("Ctrl-C does not wait for the executions in flight: the partial report comes at once", async () => {
  const child = spawn(
    NODE,
    [
      CASCADE,
      "load",
      "--endpoint",
      dev?.url ?? "",
      "--workflow",
      "Long",
      "--count",
      "10",
      "--concurrency",
      "2",
      "--format",
      "json",
    ],
    { cwd: repoPath(), env: { ...process.env, CASCADE_ENDPOINT: "" } },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const code = new Promise<number | null>((resolve) => child.on("exit", resolve));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const interruptedAt = performance.now();
  child.kill("SIGINT");
  assert.equal(await code, 130);
  const took = performance.now() - interruptedAt;
  // Each execution takes 15 s; the waits in flight are cut, not sat out.
  assert.ok(took < 5_000, `exited ${Math.round(took)} ms after Ctrl-C`);
  const report = JSON.parse(stdout) as Report;
  assert.equal(report.interrupted, true);
  assert.equal(report.started, 2);
  assert.equal(report.unfinished, 2);
  assert.equal(report.succeeded, 0);
});
