/** The testing kit: an app's workflow in-process, virtual time, scripted outcomes, events, history. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { defineActivity, retryAfter } from "../../lib/index.ts";
import { createTestEnv } from "../../lib/testing/index.ts";

const app = mkdtempSync(join(tmpdir(), "cascade-kit-"));
mkdirSync(join(app, "workflows", "nested"), { recursive: true });
writeFileSync(join(app, "cascade.yaml"), "name: kit\n");
writeFileSync(
  join(app, "workflows", "nested", "slow.yaml"),
  `name: Slow
states:
  - name: Charge
    type: Task
    resource: urn:cascade:activity:charge
    retry:
      - errors: [ALL]
        max_attempts: 3
        interval: 10m
    result: $.charge
    next: Sleep
  - name: Sleep
    type: Wait
    duration: 1h
    next: Approval
  - name: Approval
    type: WaitForEvent
    event: approved
    timeout: 2d
    result: $.approval
    end: true
`,
);

test("a one-hour Wait and a ten-minute backoff take no real time", async () => {
  const env = await createTestEnv({
    appDir: app,
    skipAppActivities: true,
    activities: {
      charge: [{ error: { name: "Gateway.Busy", message: "503" } }, { ok: { id: "ch_1" } }],
    },
  });
  const started = performance.now();
  const run = await env.run(
    "Slow",
    { amount: 5 },
    { events: [{ name: "approved", payload: { by: "ops" }, after: 2 * 3_600_000 }] },
  );
  assert.ok(performance.now() - started < 5_000, "well under the hour");
  assert.equal(run.status, "succeeded", JSON.stringify(run.error));
  assert.deepEqual(run.output, { amount: 5, charge: { id: "ch_1" }, approval: { by: "ops" } });
  assert.deepEqual(
    run.calls.map((c) => [c.activity, c.attempt, c.at]),
    [
      ["charge", 1, 0],
      ["charge", 2, 600_000],
    ],
  );
  assert.ok(run.elapsedMs >= 2 * 3_600_000, `virtual time: ${run.elapsedMs}`);
  const types = run.history.map((e) => e.type);
  assert.ok(types.includes("RetryScheduled"));
  assert.equal(types.at(-1), "ExecutionSucceeded");
});

test("an event never sent leaves the run waiting: it ends on the WaitForEvent timeout", async () => {
  const env = await createTestEnv({
    appDir: app,
    skipAppActivities: true,
    activities: { charge: () => ({ id: "ch_2" }) },
  });
  const run = await env.run("Slow", {});
  assert.equal(run.status, "failed");
  assert.equal(run.error?.name, "Cascade.Timeout");
});

test("defineActivity and retryAfter: the retry waits what the activity said, not the backoff", async () => {
  let calls = 0;
  const charge = defineActivity<{ amount?: number }, { id: string }>(async () => {
    calls++;
    if (calls === 1) throw retryAfter(30_000);
    return { id: "ch_3" };
  });
  const env = await createTestEnv({ appDir: app, skipAppActivities: true, activities: { charge } });
  const run = await env.run("Slow", {}, { cancelAfter: 4 * 3_600_000 });
  assert.deepEqual(
    run.calls.map((c) => c.at),
    [0, 30_000],
  );
  assert.equal(run.status, "cancelled");
});

test("a scripted non-retryable error goes straight to failure", async () => {
  const env = await createTestEnv({
    appDir: app,
    skipAppActivities: true,
    activities: { charge: [{ error: { name: "Card.Declined", retryable: false } }] },
  });
  const run = await env.run("Slow", {});
  assert.equal(run.status, "failed");
  assert.equal(run.error?.name, "Card.Declined");
  assert.equal(run.calls.length, 1);
});
