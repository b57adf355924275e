/**
 * The testing kit works under Vitest and Jest, not only node:test: each runs a small
 * test file on the kit (test/testing/runners/) as its own process, as a user's project
 * would, and must pass it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { repoPath } from "../helpers.ts";

const NODE = repoPath("node_modules", ".bin", "node");
const RUNNERS = repoPath("test", "testing", "runners");

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, {
      cwd: repoPath(),
      env: { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not end in 120 s:\n${output}`));
    }, 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test("under Vitest", async () => {
  const { code, output } = await run([
    repoPath("node_modules", "vitest", "vitest.mjs"),
    "run",
    "--root",
    RUNNERS,
  ]);
  assert.equal(code, 0, output);
  assert.match(output, /Tests\s+1 passed \(1\)/);
});

test("under Jest (native ESM)", async () => {
  const { code, output } = await run(
    [
      repoPath("node_modules", "jest", "bin", "jest.js"),
      "--config",
      repoPath("test", "testing", "runners", "jest.config.cjs"),
    ],
    { NODE_OPTIONS: "--experimental-vm-modules" },
  );
  assert.equal(code, 0, output);
  assert.match(output, /Tests:\s+1 passed, 1 total/);
  assert.match(output, /✓ a retried activity and a one-hour Wait on virtual time/);
});
