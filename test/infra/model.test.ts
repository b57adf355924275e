/** What `cdk synth` reads before building a construct: the app, checked like `cascade dev` checks it. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AppModelError, readAppModel } from "../../lib/infra/model.ts";

test("cdk synth refuses a Task whose timeout does not fit in its worker's Lambda timeout", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-model-"));
  mkdirSync(join(dir, "workflows"));
  mkdirSync(join(dir, "activities"));
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: slow\ndeployments:\n  workers: { timeout: 5m }\n",
  );
  writeFileSync(
    join(dir, "workflows", "fulfil.yaml"),
    "name: Fulfil\nstates:\n  - name: FulfillOrder\n    type: Task\n    resource: urn:cascade:activity:fulfill_order@us-east\n    timeout: 15m\n    end: true\n",
  );
  writeFileSync(join(dir, "activities", "index.ts"), "export async function fulfill_order() {}\n");
  await assert.rejects(readAppModel(dir), (error: unknown) => {
    assert.ok(error instanceof AppModelError);
    assert.match(
      error.report,
      /fulfil\.yaml:6:14 error CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION 'FulfillOrder' has timeout 15m but the worker function of pool us-east times out at 5m/,
    );
    return true;
  });
  // Raised to fit, the same app is read.
  writeFileSync(
    join(dir, "workflows", "fulfil.yaml"),
    "name: Fulfil\nstates:\n  - name: FulfillOrder\n    type: Task\n    resource: urn:cascade:activity:fulfill_order@us-east\n    timeout: 4m55s\n    end: true\n",
  );
  assert.deepEqual((await readAppModel(dir)).workerPools, ["us-east"]);
});
