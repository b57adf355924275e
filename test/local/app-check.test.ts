/** Checking a whole app before `cascade dev` starts it: every problem at once, nothing started. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { checkApp, formatProblems, workerRegionsOf } from "../../lib/local/app-check.ts";
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
  assert.deepEqual([...workerRegionsOf(definitions)].sort(), ["eu-west", "us-east"]);
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
