/** The app's `.env`: read for `cascade dev`; the environment already set wins. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadAppEnvFile } from "../../lib/app/env-file.ts";

test("variables of .env are set unless the environment has them; no file, no change", () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-env-"));
  const env: Record<string, string | undefined> = { KEPT: "shell" };
  assert.deepEqual(loadAppEnvFile(dir, env), []);
  writeFileSync(
    join(dir, ".env"),
    'DATABASE_URL="postgres://x"\n# a comment\nKEPT=file\nAPI_KEY=s3cret\n',
  );
  assert.deepEqual(loadAppEnvFile(dir, env).sort(), ["API_KEY", "DATABASE_URL"]);
  assert.deepEqual(env, { KEPT: "shell", DATABASE_URL: "postgres://x", API_KEY: "s3cret" });
});
