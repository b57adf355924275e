/**
 * The CLI end to end against a running `cascade dev` (a child process on a free
 * port): process start, sync start, get, list with paging, history, cancel,
 * signal, idempotent start, reloading a workflow, and the error exits.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type CliResult, runCli } from "./cli-process.ts";
import { type DevProcess, startDev, writeApp } from "./dev-process.ts";

const APP = {
  "cascade.yaml": "name: shop\n",
  "workflows/echo.yaml": `name: Echo
states:
  - { name: Shout, type: Task, resource: "urn:cascade:activity:shout", result: $.shout, end: true }
`,
  "workflows/waiter.yaml": `name: Waiter
states:
  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 60s, result: $.go, end: true }
`,
  "workflows/slow.yaml": `name: Slow
states:
  - { name: Nap, type: Task, resource: "urn:cascade:activity:nap", result: $.napped, end: true }
`,
  "workflows/failing.yaml": `name: Failing
states:
  - { name: Boom, type: Fail, error: Nope, cause: "no luck" }
`,
  "activities/index.ts": `export async function shout(input: { word?: string }) {
  return String(input.word ?? "").toUpperCase();
}
export async function nap(input: { ms: number }) {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  return true;
}
`,
};

let dir = "";
let dev: DevProcess | undefined;
const cli = (...args: string[]): Promise<CliResult> => {
  if (!dev) throw new Error("cascade dev is not running");
  return runCli([...args, "--endpoint", dev.url]);
};
const json = <T = Record<string, unknown>>(result: CliResult): T => {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
};

async function waitEnded(id: string): Promise<Record<string, unknown>> {
  const until = Date.now() + 20_000;
  for (;;) {
    const body = json(await cli("process", "get", id, "--app", "shop", "--format", "json"));
    if (body.status !== "running") return body;
    assert.ok(Date.now() < until, `${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  dir = writeApp(APP);
  dev = await startDev(dir, ["--ephemeral"]);
});
after(async () => {
  assert.equal(await dev?.stop(), 0, "cascade dev stops cleanly on SIGTERM");
});

test("process start (the seed's form) prints the id; get shows the output", async () => {
  const started = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--input",
    '{"word":"hi"}',
  );
  assert.equal(started.code, 0, started.stderr);
  const id = started.stdout.trim();
  assert.match(id, /^[0-9a-f-]{36}$/);
  const body = await waitEnded(id);
  assert.equal(body.status, "succeeded");
  assert.deepEqual(body.output, { word: "hi", shout: "HI" });

  const text = await cli("process", "get", id, "--app", "shop");
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^status\s+succeeded$/m);
  assert.match(text.stdout, /^output\s+\{"word":"hi","shout":"HI"\}$/m);
});

test("the log says an execution started at once, not when its first activity ends, and once", async () => {
  const id = (
    await cli("process", "start", "--app", "shop", "--workflow", "Slow", "--input", '{"ms":3000}')
  ).stdout.trim();
  const mine = (event: string) => (line: string) =>
    line.includes(`"execution":"${id}"`) && line.includes(`"event":"${event}"`);
  await dev?.waitForLine(mine("ExecutionStarted"), 2_500);
  await dev?.waitForLine(mine("ActivityScheduled"), 500);
  const during = json(await cli("process", "get", id, "--app", "shop", "--format", "json"));
  assert.equal(during.status, "running", "the line came while the activity still ran");
  assert.equal((await waitEnded(id)).status, "succeeded");
  await dev?.waitForLine(mine("ExecutionSucceeded"), 2_000);
  for (const event of ["ExecutionStarted", "StateEntered", "ActivityScheduled"])
    assert.equal(dev?.lines.filter(mine(event)).length, 1, `one ${event} line`);
  assert.equal(dev?.lines.filter(mine("ActivitySucceeded")).length, 1);
});

test("sync start with --wait prints the ended execution; a failed one exits 2", async () => {
  const ok = json(
    await cli(
      "process",
      "start",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--input",
      '{"word":"sync"}',
      "--wait",
      "10",
      "--format",
      "json",
    ),
  );
  assert.equal(ok.status, "succeeded");
  assert.deepEqual(ok.output, { word: "sync", shout: "SYNC" });
  const failed = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Failing",
    "--wait",
    "10",
  );
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stdout, /Nope: no luck/);
});

test("idempotent start: the same id and input start once; another input is a conflict (4)", async () => {
  const a = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--id",
    "same-1",
    "--input",
    '{"word":"a"}',
  );
  const b = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--id",
    "same-1",
    "--input",
    '{"word":"a"}',
  );
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(a.stdout.trim(), "same-1");
  assert.equal(b.stdout.trim(), "same-1");
  const c = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--id",
    "same-1",
    "--input",
    '{"word":"b"}',
  );
  assert.equal(c.code, 4, c.stderr);
  const history = json<{ events: { type: string }[] }>(
    await cli("process", "history", "same-1", "--app", "shop", "--all", "--format", "json"),
  );
  await waitEnded("same-1");
  assert.ok(history.events.filter((e) => e.type === "ExecutionStarted").length <= 1);
});

test("list pages with --limit and --cursor, filters by workflow and status, --all reads every page", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await cli(
      "process",
      "start",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--id",
      `page-${i}`,
      "--input",
      `{"word":"p${i}"}`,
    );
    assert.equal(r.code, 0, r.stderr);
  }
  for (let i = 0; i < 5; i++) await waitEnded(`page-${i}`);
  const all = json<{
    items: { id?: string; executionId?: string; workflow: string; status: string }[];
  }>(
    await cli(
      "process",
      "list",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--status",
      "succeeded",
      "--all",
      "--limit",
      "2",
      "--format",
      "json",
    ),
  );
  const ids = all.items.map((x) => x.id ?? x.executionId);
  for (let i = 0; i < 5; i++) assert.ok(ids.includes(`page-${i}`), `page-${i} listed`);
  assert.equal(new Set(ids).size, ids.length, "no execution listed twice");
  assert.ok(all.items.every((x) => x.workflow === "Echo" && x.status === "succeeded"));

  const first = json<{ items: unknown[]; cursor?: string }>(
    await cli(
      "process",
      "list",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--limit",
      "2",
      "--format",
      "json",
    ),
  );
  assert.equal(first.items.length, 2);
  assert.ok(first.cursor, "a cursor to the next page");
  const second = json<{ items: { id?: string; executionId?: string }[] }>(
    await cli(
      "process",
      "list",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--limit",
      "2",
      "--cursor",
      first.cursor ?? "",
      "--format",
      "json",
    ),
  );
  assert.equal(second.items.length, 2);
  const text = await cli("process", "list", "--app", "shop", "--workflow", "Echo", "--limit", "2");
  assert.match(text.stderr, /more: --cursor /);
});

test("history shows the transitions in order", async () => {
  const id = (
    await cli("process", "start", "--app", "shop", "--workflow", "Echo", "--input", '{"word":"h"}')
  ).stdout.trim();
  await waitEnded(id);
  const { events } = json<{ events: { type: string; state?: string }[] }>(
    await cli("process", "history", id, "--app", "shop", "--all", "--format", "json"),
  );
  const types = events.map((e) => e.type);
  assert.equal(types[0], "ExecutionStarted");
  assert.equal(types.at(-1), "ExecutionSucceeded");
  assert.ok(events.some((e) => e.type === "ActivitySucceeded" && e.state === "Shout"));
  const text = await cli("process", "history", id, "--app", "shop");
  assert.match(text.stdout, /ExecutionSucceeded/);
});

test("signal delivers an external event; cancel stops a waiting execution (a retry says so again); cancelling an ended one is a conflict", async () => {
  const waiting = (
    await cli("process", "start", "--app", "shop", "--workflow", "Waiter", "--id", "wait-sig")
  ).stdout.trim();
  const sent = await cli(
    "process",
    "signal",
    waiting,
    "--app",
    "shop",
    "--event",
    "go",
    "--payload",
    '{"ok":true}',
  );
  assert.equal(sent.code, 0, sent.stderr);
  const done = await waitEnded(waiting);
  assert.equal(done.status, "succeeded");
  assert.deepEqual(done.output, { go: { ok: true } });

  const other = (
    await cli("process", "start", "--app", "shop", "--workflow", "Waiter", "--id", "wait-cancel")
  ).stdout.trim();
  const cancelled = await cli("process", "cancel", other, "--app", "shop", "--reason", "test");
  assert.equal(cancelled.code, 0, cancelled.stderr);
  const ended = await waitEnded(other);
  assert.equal(ended.status, "cancelled");
  const again = await cli("process", "cancel", other, "--app", "shop");
  assert.equal(again.code, 0, `a retried cancel took effect: ${again.stderr}`);
  const late = await cli("process", "cancel", waiting, "--app", "shop");
  assert.equal(late.code, 4, late.stderr);
  assert.match(late.stderr, /succeeded/, "the conflict names the status it ended in");
});

test("error exits: unknown workflow or execution 3, bad JSON or id 1, nothing listening 69, bad flags 64", async () => {
  const unknown = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Nope",
    "--input",
    "{}",
  );
  assert.equal(unknown.code, 3, unknown.stderr);
  const missing = await cli("process", "get", "no-such-execution", "--app", "shop");
  assert.equal(missing.code, 3, missing.stderr);
  const badJson = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--input",
    "{oops",
  );
  assert.equal(badJson.code, 1);
  const badId = await cli(
    "process",
    "start",
    "--app",
    "shop",
    "--workflow",
    "Echo",
    "--id",
    "no spaces allowed",
  );
  assert.equal(badId.code, 1, badId.stderr);
  const nobody = await runCli([
    "process",
    "get",
    "x",
    "--app",
    "shop",
    "--endpoint",
    "http://127.0.0.1:9",
  ]);
  assert.equal(nobody.code, 69);
  assert.match(nobody.stderr, /cannot reach the Cascade API at http:\/\/127\.0\.0\.1:9/);
  const usage = await cli("process", "start", "--app", "shop");
  assert.equal(usage.code, 64);
  assert.match(usage.stderr, /--workflow/);
});

test("editing a workflow reloads it: new executions use the new definition", async () => {
  writeFileSync(
    join(dir, "workflows", "echo.yaml"),
    `name: Echo
states:
  - { name: Shout, type: Task, resource: "urn:cascade:activity:shout", result: $.shout, next: Mark }
  - { name: Mark, type: Pass, result: $.version, value: 2, end: true }
`,
  );
  await dev?.waitForLine((l) => l.includes('"kind":"reload"') && l.includes('"Echo"'));
  const body = json(
    await cli(
      "process",
      "start",
      "--app",
      "shop",
      "--workflow",
      "Echo",
      "--input",
      '{"word":"v2"}',
      "--wait",
      "10",
      "--format",
      "json",
    ),
  );
  assert.deepEqual(body.output, { word: "v2", shout: "V2", version: 2 });
});

test("cascade dev refuses an invalid app with the validator's messages and exit 1", async () => {
  const bad = writeApp({
    "workflows/bad.yaml": "states:\n  - { name: A, type: Pass, next: Nowhere }\n",
  });
  const result = await runCli(["dev", bad, "--port", "0", "--ephemeral"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /workflows\/bad\.yaml:2:\d+ error CDL_UNKNOWN_TARGET/);
  assert.match(result.stderr, /nothing was started/);
});
