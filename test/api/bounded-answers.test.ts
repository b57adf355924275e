/**
 * Hostile input in linear time, and answers bounded by the request (DESIGN.md invariant
 * 8): a request a few hundred KiB long must not answer megabytes. On AWS a Lambda may
 * return 6 MB; past it API Gateway answers 500, so an unbounded list of problems is a
 * 500 in disguise (and a 170x amplification). Through a real HTTP server on the embedded
 * stack, as a user sends them.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiHandler } from "../../lib/api/index.ts";
import { MAX_DIAGNOSTICS } from "../../lib/core/cdl/index.ts";
import { MAX_INPUT_PROBLEMS } from "../../lib/core/cdl/input-schema.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const TAGS = `name: Tags
input_schema:
  type: array
  items: { type: string, maxLength: 3 }
states:
  - { name: Ok, type: Pass, end: true }
`;

/** Well under anything a client could mind: 1,000 problems' worth at most. */
const MAX_ANSWER_BYTES = 256 * 1024;

let stack: LocalStack;
let server: HttpServer;

before(async () => {
  stack = await startLocalStack({
    app: "shop",
    workflows: [{ file: "tags.yaml", source: TAGS }],
    activities: new Map(),
    ephemeral: true,
    runtime: { log: () => {} },
  });
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    local: true,
    log: () => {},
  });
  server = await startHttpServer({ handler, port: 0, warn: () => {} });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

async function post(path: string, type: string, body: string) {
  const t0 = performance.now();
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - t0 };
}

/** Sources of ~200 KiB (their JSON under the validate cap of 256 KiB) with a problem on every line. */
const SOURCES: Record<string, string> = {
  "a sequence after a mapping": `name: X\n${"- 1\n".repeat(50_000)}`,
  "a duplicate key per line": `name: X\n${"a: 1\n".repeat(40_000)}`,
  "a bad state per line": `name: X\nstates:\n${"  - {name: A, type: Nope}\n".repeat(9_000)}`,
  "a duplicate key per line, and a syntax error": `name: X\n${"a: 1\n".repeat(40_000)}b: [\n`,
};

for (const [label, source] of Object.entries(SOURCES)) {
  test(`POST /v1/validate of ${label}: at most ${MAX_DIAGNOSTICS} diagnostics, the last saying there are more`, async () => {
    for (const [type, body] of [
      ["application/json", JSON.stringify({ source })],
      ["application/yaml", source],
    ] as const) {
      const got = await post("/v1/validate", type, body);
      assert.equal(got.status, 200, got.text.slice(0, 200));
      assert.ok(got.text.length < MAX_ANSWER_BYTES, `${type}: ${got.text.length} bytes answered`);
      const answer = JSON.parse(got.text) as { valid: boolean; diagnostics: { code: string }[] };
      assert.equal(answer.valid, false);
      assert.equal(answer.diagnostics.length, MAX_DIAGNOSTICS);
      assert.equal(answer.diagnostics.at(-1)?.code, "CDL_TOO_MANY_PROBLEMS");
      assert.ok(answer.diagnostics.slice(0, -1).every((d) => d.code !== "CDL_TOO_MANY_PROBLEMS"));
      console.log(`validate ${label} (${type}): ${got.text.length} bytes, ${got.ms.toFixed(0)} ms`);
    }
  });
}

test(`a start whose input breaks its schema 300,000 times answers at most ${MAX_INPUT_PROBLEMS} problems`, async () => {
  const input = Array.from({ length: 300_000 }, () => 1);
  const got = await post(
    "/v1/apps/shop/workflows/Tags/executions",
    "application/json",
    JSON.stringify({ input }),
  );
  assert.equal(got.status, 422, got.text.slice(0, 200));
  assert.ok(got.text.length < MAX_ANSWER_BYTES, `${got.text.length} bytes answered`);
  const { error } = JSON.parse(got.text) as {
    error: { code: string; problems: { path: string; message: string }[] };
  };
  assert.equal(error.code, "INVALID_INPUT");
  assert.equal(error.problems.length, MAX_INPUT_PROBLEMS);
  assert.equal(error.problems[0]?.path, "input[0]");
  assert.match(error.problems.at(-1)?.message ?? "", /problems or more; only the first 99/);
  console.log(`start with 300,000 wrong items: ${got.text.length} bytes, ${got.ms.toFixed(0)} ms`);
  // A few wrong items are each reported, nothing cut.
  const few = await post(
    "/v1/apps/shop/workflows/Tags/executions",
    "application/json",
    JSON.stringify({ input: ["ok", 1, "toolong"] }),
  );
  assert.equal(few.status, 422);
  const fewProblems = JSON.parse(few.text).error.problems as { path: string }[];
  assert.deepEqual(fewProblems.map((p) => p.path).sort(), ["input[1]", "input[2]"]);
});
