/** JSON arguments: a literal, @file, or - for standard input. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { captureIo } from "../../lib/cli/io.ts";
import { JsonInputError, readJsonArgument } from "../../lib/cli/json-input.ts";

test("a literal, a file relative to the working directory, and standard input", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-json-"));
  writeFileSync(join(dir, "order.json"), '{"id": 7}');
  const io = captureIo(dir, { stdin: "[1, 2]" });
  assert.deepEqual(await readJsonArgument('{"a":1}', "--input", io), { a: 1 });
  assert.deepEqual(await readJsonArgument("@order.json", "--input", io), { id: 7 });
  assert.deepEqual(await readJsonArgument("-", "--input", io), [1, 2]);
  assert.equal(await readJsonArgument("null", "--input", io), null);
});

test("invalid JSON and a missing file are different errors, naming the flag", async () => {
  const io = captureIo(tmpdir());
  await assert.rejects(readJsonArgument("{x", "--payload", io), (error: unknown) => {
    assert.ok(error instanceof JsonInputError);
    assert.equal(error.kind, "invalid");
    assert.match(error.message, /^--payload: the JSON from the command line is invalid/);
    return true;
  });
  await assert.rejects(readJsonArgument("@nope.json", "--input", io), (error: unknown) => {
    assert.ok(error instanceof JsonInputError);
    assert.equal(error.kind, "missing");
    assert.match(error.message, /cannot read .*nope\.json: ENOENT/);
    return true;
  });
});
