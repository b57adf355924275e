/**
 * One scenario of the testing kit, written once and run by the test file of each runner
 * (kit.spec.ts under Vitest, kit.jest.spec.ts under Jest): a workflow with a retried
 * activity and a one-hour Wait, on virtual time.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestEnv, type RunResult } from "../../../lib/testing/index.ts";

/** Writes the app, runs it, returns what the runner's assertions check. */
export async function runScenario(): Promise<{ run: RunResult; realMs: number }> {
  const app = mkdtempSync(join(tmpdir(), "cascade-runner-"));
  mkdirSync(join(app, "workflows"));
  writeFileSync(join(app, "cascade.yaml"), "name: runner\n");
  writeFileSync(
    join(app, "workflows", "order.yaml"),
    `name: Order
states:
  - name: Charge
    type: Task
    resource: urn:cascade:activity:charge
    retry:
      - errors: [ALL]
        max_attempts: 2
        interval: 5m
    result: $.charge
    next: Cool
  - name: Cool
    type: Wait
    duration: 1h
    end: true
`,
  );
  const env = await createTestEnv({
    appDir: app,
    skipAppActivities: true,
    activities: {
      charge: [{ error: { name: "Gateway.Busy", message: "503" } }, { ok: { id: "ch_1" } }],
    },
  });
  const started = performance.now();
  const run = await env.run("Order", { amount: 5 });
  return { run, realMs: performance.now() - started };
}
