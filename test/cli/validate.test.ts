/** `cascade validate`, in-process through makeProgram and as a real process. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT } from "../../lib/cli/exit-codes.ts";
import { captureIo } from "../../lib/cli/io.ts";
import { main } from "../../lib/cli/program.ts";
import { REPO_ROOT, repoPath } from "../helpers.ts";

test("validate examples/ is clean and summarises each workflow", async () => {
  const io = captureIo(REPO_ROOT);
  const code = await main(["validate", "examples"], io);
  const out = io.out.join("");
  assert.equal(code, EXIT.OK, out + io.err.join(""));
  assert.match(
    out,
    /ok {4}examples\/order-processing\/workflows\/order-fulfillment\.yaml {2}OrderFulfillment: 8 states/,
  );
  assert.match(
    out,
    /5 workflow file\(s\) checked: 5 valid, 0 invalid; 1 cascade.yaml checked: 1 valid, 0 invalid \(0 error\(s\), 0 warning\(s\)\)/,
  );
  assert.match(out, /ok {4}examples\/order-processing\/cascade\.yaml {2}app order-processing/);
});

test("validate checks the app's cascade.yaml against its workflows: a trigger to an unknown workflow fails", async () => {
  const dir = await mkdtemp(join(tmpdir(), "validate-app-"));
  await mkdir(join(dir, "workflows"));
  await writeFile(
    join(dir, "workflows", "hello.yaml"),
    "name: Hello\nstates:\n  - name: Done\n    type: Succeed\n",
  );
  await writeFile(
    join(dir, "cascade.yaml"),
    "name: hello\ntriggers:\n  - path: /hello\n    workflow: Helo\n",
  );
  const io = captureIo(dir);
  const code = await main(["validate", ".", "--format", "json"], io);
  assert.equal(code, EXIT.INVALID);
  const report = JSON.parse(io.out.join("")) as {
    files: { file: string; kind?: string; diagnostics: { code: string; line: number }[] }[];
  };
  const config = report.files.find((f) => f.kind === "config");
  assert.equal(config?.file, "cascade.yaml");
  assert.deepEqual(
    config?.diagnostics.map((d) => `${d.line}:${d.code}`),
    ["4:CONFIG_UNKNOWN_WORKFLOW"],
  );
});

test("validate reports every problem with file:line:column, snippet and caret; exit 1", async () => {
  const io = captureIo(REPO_ROOT);
  const code = await main(["validate", "test/fixtures/broken/transitions.yaml"], io);
  assert.equal(code, EXIT.INVALID);
  const out = io.out.join("");
  assert.match(
    out,
    /test\/fixtures\/broken\/transitions\.yaml:11:15 error CDL_UNKNOWN_TARGET no state named 'Finsh' in the workflow; did you mean 'Finish'\?/,
  );
  assert.match(out, /11 \| {9}next: Finsh[^\n]*\n\s+\| {15}\^{5}\n/);
});

test("--format json prints one object with every diagnostic", async () => {
  const io = captureIo(REPO_ROOT);
  const code = await main(["validate", "test/fixtures/broken", "--format", "json"], io);
  assert.equal(code, EXIT.INVALID);
  const report = JSON.parse(io.out.join("")) as {
    ok: boolean;
    errors: number;
    files: {
      file: string;
      valid: boolean;
      diagnostics: { code: string; line: number; column: number }[];
    }[];
  };
  assert.equal(report.ok, false);
  assert.ok(report.errors > 10);
  // activities.yaml is only wrong once the app's activities are known (see the test below).
  assert.deepEqual(
    report.files.filter((f) => f.valid).map((f) => f.file),
    ["test/fixtures/broken/activities.yaml"],
  );
  const transitions = report.files.find((f) => f.file.endsWith("transitions.yaml"));
  assert.ok(
    transitions?.diagnostics.some(
      (d) => d.code === "CDL_UNKNOWN_TARGET" && d.line === 11 && d.column === 15,
    ),
  );
});

test("a missing path is a usage error (64); unknown options too", async () => {
  const io = captureIo(REPO_ROOT);
  assert.equal(await main(["validate", "no/such/dir"], io), EXIT.USAGE);
  assert.match(io.err.join(""), /no such file or folder: no\/such\/dir/);
  const io2 = captureIo(REPO_ROOT);
  assert.equal(await main(["validate", "--bogus"], io2), EXIT.USAGE);
  assert.match(io2.err.join(""), /unknown option '--bogus'/);
});

test("unknown activities are found through the app's activities folder", async () => {
  const io = captureIo(REPO_ROOT);
  const code = await main(
    [
      "validate",
      "test/fixtures/broken/activities.yaml",
      "--activities",
      "examples/order-processing/activities",
    ],
    io,
  );
  assert.equal(code, EXIT.INVALID);
  assert.match(io.out.join(""), /CDL_UNKNOWN_ACTIVITY no activity named 'charge_card' in the app/);
});

test("the cascade bin runs on the project's Node 24 and exits with the documented codes", () => {
  const node = repoPath("node_modules", ".bin", "node");
  const ok = spawnSync(node, [repoPath("bin", "cascade.ts"), "validate", "examples"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(ok.status, 0, ok.stderr);
  const bad = spawnSync(node, [repoPath("bin", "cascade.ts"), "validate", "test/fixtures/broken"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(bad.status, 1, bad.stderr);
  const help = spawnSync(node, [repoPath("bin", "cascade.ts"), "validate", "--help"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:\n {2}cascade validate examples\//);
});

test("--version prints package.json's version; exit 0", async () => {
  const io = captureIo(REPO_ROOT);
  assert.equal(await main(["--version"], io), EXIT.OK);
  const { version } = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as {
    version: string;
  };
  assert.equal(io.out.join("").trim(), version);
});

test("validate refuses a Task whose timeout does not fit its function's, given the app folder or the file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "validate-timeout-"));
  await mkdir(join(dir, "workflows"));
  await writeFile(
    join(dir, "workflows", "fulfil.yaml"),
    "name: Fulfil\nstates:\n  - name: FulfillOrder\n    type: Task\n    resource: urn:cascade:activity:fulfill_order@us-east\n    timeout: 15m\n    end: true\n",
  );
  await writeFile(
    join(dir, "cascade.yaml"),
    "name: fulfil\ndeployments:\n  workers: { timeout: 5m }\n",
  );
  for (const target of [".", "workflows/fulfil.yaml"]) {
    const io = captureIo(dir);
    const code = await main(["validate", target], io);
    const out = io.out.join("");
    assert.equal(code, EXIT.INVALID, out);
    assert.match(
      out,
      /workflows\/fulfil\.yaml:6:14 error CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION 'FulfillOrder' has timeout 15m but the worker function of pool us-east times out at 5m \(15m \+ 5s margin to commit > 5m\): lower its timeout to at most 4m55s/,
    );
  }
  await writeFile(
    join(dir, "cascade.yaml"),
    "name: fulfil\ndeployments:\n  workers: { timeout: 15m }\n",
  );
  const io = captureIo(dir);
  assert.equal(await main(["validate", "."], io), EXIT.INVALID);
  // 15m is Lambda's longest: only a shorter Task timeout can fit.
  assert.match(
    io.out.join(""),
    /times out at 15m \(15m \+ 5s margin to commit > 15m\): lower its timeout to at most 14m55s\n/,
  );
});

test("the seed's cascade.yaml alone, as an operator pastes it: validated, warnings only, exit 0 (a real process)", () => {
  const run = spawnSync(
    repoPath("node_modules", ".bin", "node"),
    [repoPath("bin", "cascade.ts"), "validate", "test/fixtures/seed", "--format", "json"],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  assert.equal(run.status, EXIT.OK, run.stderr);
  const report = JSON.parse(run.stdout) as { ok: boolean; errors: number; warnings: number };
  assert.deepEqual([report.ok, report.errors], [true, 0]);
  assert.ok(report.warnings >= 20, `${report.warnings} warnings`);
  // Nothing else to check there is said, not an error.
  assert.match(run.stderr, /no workflow files/);
  // A folder with neither workflows nor cascade.yaml is still a usage error.
  const empty = spawnSync(
    repoPath("node_modules", ".bin", "node"),
    [repoPath("bin", "cascade.ts"), "validate", "test/fixtures/cloudwatch"],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  assert.equal(empty.status, EXIT.USAGE, empty.stderr);
});
