/**
 * `cascade synth|deploy` as a real process: an app with errors is reported with
 * line, column and code, exits 1 and writes nothing (the CDK is never started);
 * the CDK CLI gets the app folder, stack name, profile and approval as arguments.
 * (A full `cdk synth` of the example runs once, in synth.test.ts.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cdkArguments } from "../../lib/cli/commands/deploy.ts";
import { PROJECT_ROOT } from "../../lib/infra/bundle.ts";
import { runCli } from "../cli/cli-process.ts";

const dir = mkdtempSync(join(tmpdir(), "cascade-cli-deploy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function brokenApp(): string {
  const app = join(dir, "broken");
  mkdirSync(join(app, "workflows"), { recursive: true });
  mkdirSync(join(app, "activities"), { recursive: true });
  writeFileSync(join(app, "cascade.yaml"), "name: broken\n");
  writeFileSync(join(app, "workflows/x.yaml"), "workflow: X\nsteps:\n  - nope: [\n");
  return app;
}

describe("cascade synth and deploy", () => {
  for (const verb of ["synth", "deploy"] as const) {
    test(`${verb} on an app with errors exits 1 with the diagnostic and writes nothing`, async () => {
      const app = brokenApp();
      const out = join(dir, `out-${verb}`);
      // No credentials either way: deploy must stop at the app check, before AWS.
      const result = await runCli([verb, app, "--output", out], {
        env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "" },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /x\.yaml:3:\d+ error CDL_YAML_SYNTAX/);
      assert.equal(existsSync(out), false);
    });
  }

  // S1 of the reliability review: before, the CDK bundled every function first and the
  // refusal came last (or never, behind a bundling failure), as exit 69.
  for (const verb of ["synth", "deploy"] as const) {
    test(`${verb} of a valid app without auth exits 1 saying what to set, before the CDK starts`, async () => {
      const app = join(dir, `open-${verb}`);
      mkdirSync(join(app, "workflows"), { recursive: true });
      mkdirSync(join(app, "activities"), { recursive: true });
      writeFileSync(join(app, "cascade.yaml"), "name: open\ntenants: [default, acme]\n");
      writeFileSync(
        join(app, "workflows/p.yaml"),
        "name: P\nstates:\n  - { name: A, type: Pass, end: true }\n",
      );
      const out = join(dir, `out-open-${verb}`);
      const result = await runCli([verb, app, "--output", out], {
        env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "" },
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        /cascade\.yaml: error INFRA_OPEN_API open: .*anyone can call.*auth: \{ type: none, public: true \}/,
      );
      assert.doesNotMatch(result.stderr, /Bundling|cdk synth failed/);
      assert.equal(existsSync(out), false);
    });
  }

  test("a missing app folder is a usage error (64), not an empty stack", async () => {
    const result = await runCli(["synth", join(dir, "absent"), "--output", join(dir, "o")]);
    assert.equal(result.code, 64, result.stderr);
    assert.match(result.stderr, /no such app folder: .*absent/);
    assert.equal(existsSync(join(dir, "o")), false);
  });

  test("the CDK CLI runs this repository's bin/app.ts on the app folder, under this Node", () => {
    const synth = cdkArguments("synth", "examples/order-processing", { output: "x" });
    assert.deepEqual(synth.slice(0, 5), [
      "synth",
      "--app",
      `${process.execPath} ${join(PROJECT_ROOT, "bin/app.ts")}`,
      "--context",
      `appDir=${join(process.cwd(), "examples/order-processing")}`,
    ]);
    assert.ok(synth.includes("--quiet"));
    assert.deepEqual(synth.slice(synth.indexOf("--output"), synth.indexOf("--output") + 2), [
      "--output",
      join(process.cwd(), "x"),
    ]);
    assert.ok(!synth.includes("--require-approval"));

    const deploy = cdkArguments("deploy", "/apps/a", {
      stackName: "a-staging",
      profile: "prod",
      yes: true,
    });
    const pairs = (flag: string) => deploy.flatMap((v, i) => (v === flag ? [deploy[i + 1]] : []));
    assert.deepEqual(pairs("--context"), ["appDir=/apps/a", "stackName=a-staging"]);
    assert.deepEqual(pairs("--profile"), ["prod"]);
    assert.deepEqual(pairs("--require-approval"), ["never"]);
    assert.ok(!deploy.includes("--quiet"));
    assert.ok(!cdkArguments("deploy", "/apps/a", {}).includes("--require-approval"));
  });
});
