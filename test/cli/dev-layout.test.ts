/**
 * `cascade dev` on a data folder written by another version of Cascade, as a real
 * process: a folder with data but no layout marker (an older Cascade's) or with an
 * older marker is refused with a message that says what to do and exit 65, untouched;
 * a new folder gets this version's marker and is accepted again on the next start.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT } from "../../lib/cli/exit-codes.ts";
import { DATA_LAYOUT_VERSION } from "../../lib/manifest/index.ts";
import { runCli } from "./cli-process.ts";
import { startDev, writeApp } from "./dev-process.ts";

const APP = {
  "cascade.yaml": "name: layout\n",
  "workflows/hello.yaml": "name: Hello\nstates:\n  - { name: Done, type: Succeed }\n",
};

/** A data folder as an older Cascade left it: emulator data, no `layout.json`. */
function writeOldData(dir: string, marker?: string): string {
  const data = join(dir, ".cascade");
  mkdirSync(join(data, "dynamodb"), { recursive: true });
  writeFileSync(join(data, "dynamodb", "000003.log"), "old items");
  if (marker !== undefined) writeFileSync(join(data, "layout.json"), marker);
  return data;
}

test("cascade dev refuses a data folder from an older Cascade (no marker): says why and what to do, exit 65, folder untouched", async () => {
  const dir = writeApp(APP);
  const data = writeOldData(dir);
  const result = await runCli(["dev", ".", "--port", "0", "--no-watch"], { cwd: dir });
  assert.equal(result.code, EXIT.INCOMPATIBLE_DATA, result.stdout + result.stderr);
  assert.equal(EXIT.INCOMPATIBLE_DATA, 65);
  assert.match(
    result.stderr,
    /^cascade dev: \.cascade holds data from an older version of Cascade \(data layout 1; this version uses layout 2\) and cannot read it; move the folder away or delete it to start afresh, or run with --ephemeral/m,
  );
  assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/, "a message, not a stack trace");
  assert.deepEqual(readdirSync(data).sort(), ["dynamodb"], "nothing written into the old folder");
  assert.equal(readFileSync(join(data, "dynamodb", "000003.log"), "utf8"), "old items");

  // --ephemeral leaves the folder alone and starts.
  const ephemeral = await startDev(dir, ["--ephemeral", "--no-watch"]);
  assert.equal(await ephemeral.stop(), 0);
  assert.deepEqual(readdirSync(data).sort(), ["dynamodb"]);
});

test("an older layout marker is refused too, with the code in JSON logs", async () => {
  const dir = writeApp(APP);
  writeOldData(dir, '{"layout":1}\n');
  const result = await runCli(["dev", ".", "--port", "0", "--no-watch", "--log-format", "json"], {
    cwd: dir,
  });
  assert.equal(result.code, EXIT.INCOMPATIBLE_DATA, result.stdout + result.stderr);
  const line = JSON.parse(result.stderr.trim()) as { kind: string; code: string; message: string };
  assert.equal(line.kind, "startup");
  assert.equal(line.code, "DATA_LAYOUT");
  assert.match(
    line.message,
    /older version of Cascade \(data layout 1; this version uses layout 2\)/,
  );
});

test("a new data folder gets this version's layout marker, and is accepted on the next start", async () => {
  const dir = writeApp(APP);
  const marker = join(dir, ".cascade", "layout.json");
  const first = await startDev(dir, ["--no-watch"]);
  try {
    assert.ok(existsSync(marker), "the marker is written when the folder is created");
    assert.deepEqual(JSON.parse(readFileSync(marker, "utf8")), { layout: DATA_LAYOUT_VERSION });
  } finally {
    assert.equal(await first.stop(), 0);
  }
  assert.ok(existsSync(join(dir, ".cascade", "dynamodb")), "the folder now holds data");
  const second = await startDev(dir, ["--no-watch"]);
  assert.equal(await second.stop(), 0);
});
