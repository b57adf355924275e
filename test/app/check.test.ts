/** Checking a whole app before `cascade dev` starts it: every problem at once, nothing started. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkApp, formatProblems, workerPoolsOf } from "../../lib/app/check.ts";
import { repoPath } from "../helpers.ts";

function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cascade-app-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test("the example app checks clean: five workflows, its activities, its cascade.yaml", async () => {
  const dir = repoPath("examples", "order-processing");
  const checked = await checkApp(dir, { cwd: repoPath() });
  assert.equal(checked.ok, true, formatProblems(checked.problems));
  assert.equal(checked.config?.name, "order-processing");
  assert.deepEqual(checked.workflows.map((w) => w.definition?.name).sort(), [
    "AsyncOrderQueue",
    "EarlyValidation",
    "MultiRegionValidation",
    "OrderFulfillment",
    "parallel-verification",
  ]);
  assert.ok(checked.activities.has("verify_identity"));
  const definitions = checked.workflows.flatMap((w) => (w.definition ? [w.definition] : []));
  assert.deepEqual([...workerPoolsOf(definitions)].sort(), ["eu-west", "us-east"]);
});

test("every problem at once: a bad cascade.yaml key, an unknown activity, a trigger to no workflow", async () => {
  const dir = app({
    "cascade.yaml":
      "name: shop\nretentoin: 3d\ntriggers:\n  - { method: POST, path: /x, workflow: Nope }\n",
    "workflows/a.yaml": "states:\n  - { name: DoIt, type: Task, end: true }\n",
    "activities/index.ts": "export async function other() { return 1; }\n",
  });
  const checked = await checkApp(dir, { cwd: dir });
  assert.equal(checked.ok, false);
  const text = formatProblems(checked.problems);
  assert.match(text, /CDL_UNKNOWN_ACTIVITY|unknown activity|no activity/i);
  assert.match(text, /retentoin/);
  assert.match(text, /workflows\/a\.yaml:2:/);
});

test("an activity module that does not load is a problem, not a crash", async () => {
  const dir = app({
    "workflows/a.yaml": "states:\n  - { name: P, type: Pass, end: true }\n",
    "activities/index.ts": "throw new Error('boom at import');\n",
  });
  const checked = await checkApp(dir, { cwd: dir });
  assert.equal(checked.ok, false);
  assert.match(
    formatProblems(checked.problems),
    /cannot load activities from .*index\.ts: boom at import/,
  );
});

test("an app without workflows cannot start", async () => {
  const dir = app({ "activities/index.ts": "export const x = () => 1;\n" });
  const checked = await checkApp(dir, { cwd: dir });
  assert.equal(checked.ok, false);
  assert.match(formatProblems(checked.problems), /no workflow files/);
});

const SLOW_TASKS = `name: Slow
states:
  - name: Inline
    type: Task
    resource: urn:cascade:activity:work
    timeout: 28s
    next: Beating
  - name: Beating
    type: Task
    resource: urn:cascade:activity:work@us-east
    heartbeat: 56s
    next: Fits
  - name: Fits
    type: Task
    resource: urn:cascade:activity:work@us-east
    timeout: 55s
    heartbeat: 10s
    end: true
`;

test("a Task whose timeout (or heartbeat) cannot fit in its function's timeout is an error, with both numbers", async () => {
  const dir = app({
    "cascade.yaml":
      "name: slow\ndeployments:\n  engine: { timeout: 30s }\n  workers: { timeout: 1m }\n",
    "workflows/slow.yaml": SLOW_TASKS,
    "activities/index.ts": "export async function work() { return 1; }\n",
  });
  const checked = await checkApp(dir, { cwd: dir });
  assert.equal(checked.ok, false);
  const found = checked.problems.flatMap((p) =>
    p.diagnostic?.code === "CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION" ? [p.diagnostic] : [],
  );
  assert.deepEqual(
    found.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`),
    [
      "workflows/slow.yaml:6:14 'Inline' has timeout 28s but the engine function times out at 30s (28s + 5s margin to commit > 30s): lower its timeout to at most 25s, or raise deployments.engine.timeout in cascade.yaml to at least 33s",
      "workflows/slow.yaml:11:16 'Beating' has heartbeat 56s and no timeout but the worker function of pool us-east times out at 1m (56s + 5s margin to commit > 1m): lower its heartbeat to at most 55s, or raise deployments.workers.timeout in cascade.yaml to at least 1m1s",
    ],
  );
  assert.equal(checked.errors, 2, formatProblems(checked.problems));
});

test("without cascade.yaml the default function timeouts apply (engine 60s)", async () => {
  const dir = app({
    "workflows/a.yaml":
      "states:\n  - { name: Long, type: Task, resource: 'urn:cascade:activity:work', timeout: 1m, end: true }\n",
    "activities/index.ts": "export async function work() { return 1; }\n",
  });
  const checked = await checkApp(dir, { cwd: dir });
  assert.equal(checked.ok, false);
  assert.match(
    formatProblems(checked.problems),
    /workflows\/a\.yaml:2:\d+ error CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION 'Long' has timeout 1m but the engine function times out at 1m /,
  );
});
