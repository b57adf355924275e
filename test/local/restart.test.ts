/**
 * `kill -9` in the middle: `cascade dev` is killed while executions are inside a
 * Parallel (activities running) and inside a Wait, started again on the same data,
 * and every execution finishes exactly once, with the right output. The activities
 * append to a file, so the test sees what ran, with which idempotency key.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../cli/cli-process.ts";
import { startDev, writeApp } from "../cli/dev-process.ts";

const APP = {
  "cascade.yaml":
    "name: crash\ndeployments:\n  engine: { timeout: 3s }\n  workers: { timeout: 3s }\nmessaging:\n  visibility_timeout: 3s\n",
  "workflows/fan.yaml": `name: Fan
states:
  - name: Checks
    type: Parallel
    branches:
      - { name: Left, type: Task, resource: "urn:cascade:activity:slow", parameters: { side: left, ms: 2500 }, result: $.left }
      - { name: Right, type: Task, resource: "urn:cascade:activity:slow", parameters: { side: right, ms: 2500 }, result: $.right }
    next: Done
  - { name: Done, type: Task, resource: "urn:cascade:activity:note", result: $.done, end: true }
`,
  "workflows/sleeper.yaml": `name: Sleeper
states:
  - { name: Before, type: Task, resource: "urn:cascade:activity:note", result: $.before, next: Nap }
  - { name: Nap, type: Wait, duration: 4s, next: After }
  - { name: After, type: Task, resource: "urn:cascade:activity:note", result: $.after, end: true }
`,
  "activities/index.ts": `import { appendFileSync } from "node:fs";
interface Ctx { idempotencyKey: string; executionId: string; state: string; attempt: number }
const record = (ctx: Ctx, what: string) =>
  appendFileSync(process.env.CASCADE_TEST_LOG ?? "", JSON.stringify({ key: ctx.idempotencyKey, execution: ctx.executionId, state: ctx.state, attempt: ctx.attempt, what }) + "\\n");
export async function slow(input: { side: string; ms: number }, ctx: Ctx) {
  record(ctx, "start");
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  record(ctx, "end");
  return input.side;
}
export async function note(_input: unknown, ctx: Ctx) {
  record(ctx, "end");
  return ctx.state;
}
`,
};

interface Entry {
  key: string;
  execution: string;
  state: string;
  attempt: number;
  what: string;
}

const FANS = ["fan-1", "fan-2", "fan-3"];
const SLEEPERS = ["sleep-1", "sleep-2"];

test("kill -9 mid-Parallel and mid-Wait, restart on the same data: every execution ends once", async () => {
  const dir = writeApp(APP);
  const log = join(dir, "side-effects.log");
  writeFileSync(log, "");
  const env = { CASCADE_TEST_LOG: log };
  const readLog = (): Entry[] =>
    readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Entry);

  const first = await startDev(dir, [], env);
  try {
    const start = (workflow: string, id: string) =>
      runCli([
        "process",
        "start",
        "--endpoint",
        first.url,
        "--app",
        "crash",
        "--workflow",
        workflow,
        "--id",
        id,
        "--input",
        `{"id":"${id}"}`,
      ]);
    const started = await Promise.all([
      ...SLEEPERS.map((id) => start("Sleeper", id)),
      ...FANS.map((id) => start("Fan", id)),
    ]);
    for (const result of started) assert.equal(result.code, 0, result.stderr);

    // In flight: both branches of every Fan running, every Sleeper past Before (in its 4 s Wait).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const entries = readLog();
      const fanStarts = entries.filter((e) => e.state !== "Done" && e.what === "start").length;
      const slept = entries.filter((e) => e.state === "Before").length;
      if (fanStarts >= FANS.length * 2 && slept >= SLEEPERS.length) break;
      assert.ok(Date.now() < deadline, `never in flight: ${JSON.stringify(entries)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await first.kill();
  }
  const beforeRestart = readLog();
  assert.equal(
    beforeRestart.filter((e) => e.what === "end" && e.state === "Left").length,
    0,
    "killed before the branches ended",
  );
  assert.equal(
    beforeRestart.filter((e) => e.state === "After").length,
    0,
    "killed during the Wait",
  );

  const second = await startDev(dir, [], env);
  try {
    for (const id of [...FANS, ...SLEEPERS]) {
      let body: { status?: string; output?: Record<string, unknown> } = {};
      const until = Date.now() + 40_000;
      while (Date.now() < until) {
        const got = await runCli([
          "process",
          "get",
          id,
          "--endpoint",
          second.url,
          "--app",
          "crash",
          "--format",
          "json",
        ]);
        assert.equal(got.code, 0, got.stderr);
        body = JSON.parse(got.stdout) as typeof body;
        if (body.status !== "running") break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(body.status, "succeeded", `${id}: ${JSON.stringify(body)}`);
      if (id.startsWith("fan"))
        assert.deepEqual(body.output, { id, left: "left", right: "right", done: "Done" });
      else assert.deepEqual(body.output, { id, before: "Before", after: "After" });

      const history = await runCli([
        "process",
        "history",
        id,
        "--all",
        "--endpoint",
        second.url,
        "--app",
        "crash",
        "--format",
        "json",
      ]);
      assert.equal(history.code, 0, history.stderr);
      const events = (JSON.parse(history.stdout) as { events: { type: string }[] }).events;
      assert.equal(
        events.filter((e) => e.type === "ExecutionSucceeded").length,
        1,
        `${id} ended once`,
      );
      assert.equal(events.filter((e) => e.type === "ExecutionStarted").length, 1);
    }
  } finally {
    assert.equal(await second.stop(), 0, "a clean stop after the restart");
  }

  const entries = readLog();
  const byState = new Map<string, Entry[]>();
  for (const e of entries)
    byState.set(`${e.execution}/${e.state}`, [
      ...(byState.get(`${e.execution}/${e.state}`) ?? []),
      e,
    ]);
  for (const [where, list] of byState) {
    // A delivery repeated after the crash is the same attempt, with the same idempotency key.
    assert.equal(
      new Set(list.map((e) => e.key)).size,
      1,
      `${where}: one attempt, one key: ${JSON.stringify(list)}`,
    );
    assert.ok(
      list.every((e) => e.attempt === 1),
      where,
    );
  }
  for (const id of FANS) {
    assert.equal(byState.get(`${id}/Done`)?.length, 1, `${id}: the join continued the parent once`);
    for (const side of ["Left", "Right"])
      assert.ok(
        (byState.get(`${id}/${side}`) ?? []).some((e) => e.what === "end"),
        `${id}/${side} finished`,
      );
  }
  for (const id of SLEEPERS) {
    assert.equal(
      byState.get(`${id}/Before`)?.length,
      1,
      `${id}: Before ran once, before the crash`,
    );
    assert.equal(byState.get(`${id}/After`)?.length, 1, `${id}: After ran once, after the Wait`);
  }
});
