/**
 * Reads bounded by the request, not by the execution's values: an offloaded value can be
 * any size (a Map's output is every item's), but a Lambda returns at most 6 MB and past
 * it API Gateway answers 500. So an API answer carries at most MAX_ANSWER_VALUE_BYTES of
 * values: GET execution names a larger one in `omitted` with its size, and a history page
 * ends early at the last event that fits (its cursor gets the rest). Through a real HTTP
 * server on the embedded stack, with the values in fauxqs's S3.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiHandler } from "../../lib/api/index.ts";
import type { ActivityFunction } from "../../lib/core/activity.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import { MAX_ANSWER_VALUE_BYTES } from "../../lib/runtime/queries.ts";

const MIB = 1024 * 1024;
/**
 * The most an answer's body may be: the values' budget and the JSON around them. Inside
 * Lambda's own JSON the body may double (escaped quotes), still under its 6 MB.
 */
const MAX_BODY_BYTES = MAX_ANSWER_VALUE_BYTES + 256 * 1024;
const EXEC = "/v1/apps/shop/executions";

const BIG = `name: Big
states:
  - name: Each
    type: Map
    items: "{{ $.sizes }}"
    iterator:
      - { name: Make, type: Task, resource: "urn:cascade:activity:make", end: true }
    end: true
`;

const make: ActivityFunction = async (bytes: unknown) => "x".repeat(Number(bytes));

let stack: LocalStack;
let server: HttpServer;

before(async () => {
  stack = await startLocalStack({
    app: "shop",
    workflows: [{ file: "big.yaml", source: BIG }],
    activities: new Map([["make", make]]),
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

async function get(path: string) {
  const response = await fetch(`${server.url}${path}`);
  const text = await response.text();
  assert.ok(text.length < MAX_BODY_BYTES, `${path}: ${text.length} bytes answered`);
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, asserted field by field
  return { status: response.status, bytes: text.length, body: JSON.parse(text) as any };
}

test("a Map whose output is 6 MiB: GET execution names it in `omitted`; history pages each fit an answer and together hold every event", async () => {
  const sizes = Array.from({ length: 6 }, () => MIB);
  await stack.runtime.startExecution("Big", { sizes }, { id: "big-6" });
  await stack.waitFor("big-6", 60_000);

  const got = await get(`${EXEC}/big-6`);
  assert.equal(got.status, 200);
  assert.equal(got.body.status, "succeeded");
  assert.equal("output" in got.body, false);
  assert.ok(got.body.omitted.output > 6 * MIB, JSON.stringify(got.body.omitted));
  assert.deepEqual(got.body.input, { sizes });
  assert.ok(got.bytes < 64 * 1024);

  const stored = await stack.store.readHistory("default", "big-6", 1000);
  assert.equal(stored.cursor, undefined);
  const events: { type: string; output?: unknown; omitted?: { output?: number } }[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await get(
      `${EXEC}/big-6/history?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    assert.equal(page.status, 200, JSON.stringify(page.body).slice(0, 200));
    assert.ok(page.body.events.length > 0);
    events.push(...page.body.events);
    cursor = page.body.cursor;
    pages++;
  } while (cursor !== undefined);
  assert.ok(pages >= 2, `${pages} page(s): the 1 MiB values cannot all fit one answer`);
  assert.equal(events.length, stored.items.length, "every event, once");
  // Each item's 1 MiB output comes back whole; only the 6 MiB ones are left out.
  const succeeded = events.filter((e) => e.type === "ActivitySucceeded");
  assert.equal(succeeded.length, 6);
  for (const e of succeeded) assert.equal(e.output, "x".repeat(MIB));
  const omitted = events.filter((e) => e.omitted !== undefined);
  assert.ok(omitted.length >= 1);
  for (const e of omitted) {
    assert.ok((e.omitted?.output ?? 0) > MAX_ANSWER_VALUE_BYTES, JSON.stringify(e.omitted));
    assert.equal("output" in e, false);
  }
});

test("a value under the answer's budget comes back as before, with no `omitted`", async () => {
  await stack.runtime.startExecution("Big", { sizes: [300_000] }, { id: "big-1" });
  await stack.waitFor("big-1", 30_000);
  const got = await get(`${EXEC}/big-1`);
  assert.deepEqual(got.body.output, ["x".repeat(300_000)]);
  assert.equal(got.body.omitted, undefined);
  const history = await get(`${EXEC}/big-1/history`);
  assert.equal(history.body.cursor, undefined);
  assert.ok(history.body.events.every((e: { omitted?: unknown }) => e.omitted === undefined));
});
