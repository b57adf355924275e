/** `cascade dev` and `cascade run` refuse to start an app whose secrets are not set locally, naming each at its line in cascade.yaml. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "./cli-process.ts";
import { writeApp } from "./dev-process.ts";

const APP = {
  "cascade.yaml":
    "name: shop\nactivities:\n  secrets:\n    STRIPE_KEY: secretsmanager:prod/stripe\n",
  "workflows/pay.yaml":
    "name: Pay\nstates:\n  - name: Pay\n    type: Task\n    resource: urn:cascade:activity:pay\n    end: true\n",
  "activities/pay.ts": "export const pay = () => ({ key: process.env.STRIPE_KEY ?? null });\n",
};

test("a secret missing from .env and the environment stops cascade dev and cascade run with its place", async () => {
  const dir = writeApp(APP);
  const env = { STRIPE_KEY: "" };
  const dev = await runCli(["dev", dir, "--ephemeral", "--port", "0", "--no-watch"], { env });
  assert.equal(dev.code, 1, dev.stderr);
  assert.match(
    dev.stderr,
    /cascade\.yaml:4:17 error CONFIG_SECRET_MISSING secret STRIPE_KEY is not set here/,
  );
  assert.match(dev.stderr, /1 secret\(s\) of cascade\.yaml are not set/);
  const run = await runCli(["run", join(dir, "workflows/pay.yaml"), "--input", "{}"], { env });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /CONFIG_SECRET_MISSING/);
  // Once .env has it, the activity sees it.
  writeFileSync(join(dir, ".env"), "STRIPE_KEY=sk_test_1\n");
  const ok = await runCli(
    ["run", join(dir, "workflows/pay.yaml"), "--input", "{}", "--format", "json"],
    { env: {} },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).output, { key: "sk_test_1" });
});
