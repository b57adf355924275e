/**
 * The HTTP API end to end: a real HTTP server (startHttpServer) in front of the
 * handler, on the embedded stack (dynalite + fauxqs). Start, sync start, get,
 * list with paging, history paging, cancel, external events, idempotent start,
 * HTTP triggers, tenant isolation and every documented error code.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { API_ERRORS, type ApiHandler, createApiHandler } from "../../lib/api/index.ts";
import { type AppConfig, readAppConfig } from "../../lib/app/config.ts";
import type { ExecutionStore } from "../../lib/core/ports.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { EmfMetrics } from "../../lib/runtime/metrics.ts";

const WORKFLOWS = {
  "echo.yaml": `name: Echo
states:
  - { name: Shout, type: Task, resource: "urn:cascade:activity:shout", result: $.shout, end: true }
`,
  "slow.yaml": `name: Slow
states:
  - { name: Nap, type: Wait, duration: 3s, next: Done }
  - { name: Done, type: Pass, end: true }
`,
  "waiter.yaml": `name: Waiter
states:
  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 60s, result: $.go, end: true }
`,
  "strict.yaml": `name: Strict
input_schema:
  type: object
  required: [customer_id]
  properties:
    customer_id: { type: string }
states:
  - { name: Ok, type: Pass, end: true }
`,
  "pager.yaml": `name: Pager
states:
  - { name: Ok, type: Pass, end: true }
`,
};

const ACTIVITIES = new Map<string, ActivityFunction>([
  [
    "shout",
    (async (input: { word?: string }) =>
      String(input.word ?? "").toUpperCase()) as ActivityFunction,
  ],
]);

/** Every code a test here has seen come back, checked against API_ERRORS at the end. */
const seen = new Set<string>();

let stack: LocalStack;
let server: HttpServer;
let handler: ApiHandler;
let config: AppConfig;
/** The API's own latencies the handler reported (ms). */
const apiLatencies: number[] = [];

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-api-"));
  writeFileSync(
    join(dir, "cascade.yaml"),
    `name: shop
tenants: [default, acme, globex]
triggers:
  - { method: POST, path: /orders, workflow: Echo, mode: async }
  - { method: POST, path: /orders/now, workflow: Echo, mode: sync, timeout: 10s }
`,
  );
  config = await readAppConfig(dir);
  stack = await startLocalStack({
    app: "shop",
    workflows: Object.entries(WORKFLOWS).map(([file, source]) => ({ file, source })),
    activities: ACTIVITIES,
    ephemeral: true,
    runtime: { offloadThresholdBytes: 2048, log: () => {} },
  });
  handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    config,
    local: true,
    clock: { now: () => Date.now() },
    maxBodyBytes: 64 * 1024,
    metricsSink: {
      emit: () => {},
      latencies: () => {},
      apiLatency: (app, ms) => {
        assert.equal(app, "shop");
        apiLatencies.push(ms);
      },
    },
  });
  server = await startHttpServer({ handler, port: 0 });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, asserted field by field
  body: any;
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; tenant?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  // The local server takes writes as JSON only (a web page cannot send that unasked).
  if (method !== "GET") headers["content-type"] ??= "application/json";
  if (options.tenant) headers["x-cascade-tenant"] = options.tenant;
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  const parsed = text === "" ? undefined : JSON.parse(text);
  if (parsed?.error?.code) seen.add(parsed.error.code);
  return { status: response.status, headers: response.headers, body: parsed };
}

function expectError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error.code, code);
  assert.equal(typeof answer.body.error.message, "string");
  assert.ok(answer.body.error.message.length > 0);
}

const EXEC = "/v1/apps/shop/executions";
const start = (workflow: string, body: unknown, tenant?: string, query = "") =>
  call("POST", `/v1/apps/shop/workflows/${workflow}/executions${query}`, {
    body,
    ...(tenant ? { tenant } : {}),
  });

async function waitEnded(id: string, tenant?: string): Promise<Answer> {
  const until = Date.now() + 15_000;
  for (;;) {
    const got = await call("GET", `${EXEC}/${id}`, tenant ? { tenant } : {});
    assert.equal(got.status, 200, JSON.stringify(got.body));
    if (got.body.status !== "running") return got;
    assert.ok(Date.now() < until, `${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("start answers 202 with the id, status and links; get shows input, output and timings", async () => {
  const started = await start("Echo", { input: { word: "hi" } });
  assert.equal(started.status, 202);
  assert.equal(started.body.status, "running");
  assert.match(started.body.id, /^[0-9a-f-]{36}$/);
  assert.equal(started.body.links.self, `${EXEC}/${started.body.id}`);
  assert.equal(started.headers.get("location"), started.body.links.self);
  const done = await waitEnded(started.body.id);
  assert.equal(done.body.status, "succeeded");
  assert.equal(done.body.workflow, "Echo");
  assert.deepEqual(done.body.input, { word: "hi" });
  assert.deepEqual(done.body.output, { word: "hi", shout: "HI" });
  assert.equal(done.body.error, null);
  assert.ok(Date.parse(done.body.startedAt) <= Date.parse(done.body.endedAt));
  assert.equal(typeof done.body.durationMs, "number");
});

test("large inputs and outputs are read back from the payload store", async () => {
  const word = "x".repeat(20_000);
  const started = await start("Echo", { input: { word } });
  assert.equal(started.status, 202);
  const done = await waitEnded(started.body.id);
  assert.equal(done.body.input.word, word);
  assert.equal(done.body.output.shout, word.toUpperCase());
  const history = await call("GET", `${EXEC}/${started.body.id}/history?limit=1000`);
  const ended = history.body.events.find((e: { type: string }) => e.type === "ExecutionSucceeded");
  assert.equal(ended.output.shout, word.toUpperCase(), "offloaded history values are resolved");
});

test("every request reports the API's own latency, less a start's wait for the end", async () => {
  apiLatencies.length = 0;
  const t0 = Date.now();
  const late = await start("Slow", { input: {} }, undefined, "?wait=2");
  const took = Date.now() - t0;
  assert.equal(late.status, 202);
  assert.ok(took >= 1_900, `it waited ${took} ms`);
  await call("GET", late.body.links.self);
  assert.equal(apiLatencies.length, 2, JSON.stringify(apiLatencies));
  const [started, got] = apiLatencies;
  assert.ok(
    started !== undefined && started >= 0 && started < took - 1_500,
    `start: ${started} ms`,
  );
  assert.ok(got !== undefined && got >= 0 && got < 1_000, `get: ${got} ms`);
  // A sync trigger's wait is left out the same way.
  apiLatencies.length = 0;
  const sync = await call("POST", "/orders/now", { body: { word: "now" } });
  assert.equal(sync.status, 200);
  assert.equal(apiLatencies.length, 1);
});

test("sync start: 200 with the output when it ends in time, 202 with a status link when not", async () => {
  const done = await start("Echo", { input: { word: "sync" } }, undefined, "?wait=10");
  assert.equal(done.status, 200);
  assert.equal(done.body.status, "succeeded");
  assert.deepEqual(done.body.output, { word: "sync", shout: "SYNC" });

  const t0 = Date.now();
  const late = await start("Slow", { input: {} }, undefined, "?wait=1");
  assert.ok(Date.now() - t0 >= 900, "it waited");
  assert.equal(late.status, 202);
  assert.equal(late.body.status, "running");
  assert.equal(late.body.links.self, `${EXEC}/${late.body.id}`);
  const got = await call("GET", late.body.links.self);
  assert.equal(got.body.current[0].state, "Nap");
  assert.equal(got.body.current[0].waiting, "wait");
});

test("idempotent start: the same id and input answer 200 without a second start; other input is 409", async () => {
  const a = await start("Echo", { id: "same-1", input: { word: "a" } });
  assert.equal(a.status, 202);
  const b = await start("Echo", { id: "same-1", input: { word: "a" } });
  assert.ok(b.status === 200, `repeat answers 200, got ${b.status}`);
  assert.equal(b.body.id, "same-1");
  expectError(await start("Echo", { id: "same-1", input: { word: "b" } }), 409, "ID_CONFLICT");
  expectError(await start("Pager", { id: "same-1", input: { word: "a" } }), 409, "ID_CONFLICT");
  await waitEnded("same-1");
  const history = await call("GET", `${EXEC}/same-1/history`);
  assert.equal(
    history.body.events.filter((e: { type: string }) => e.type === "ExecutionStarted").length,
    1,
  );
  const ended = await start("Echo", { id: "same-1", input: { word: "a" } });
  assert.equal(ended.status, 200);
  assert.equal(ended.body.status, "succeeded", "a repeat after the end returns the outcome");
});

test("list: pages with limit and cursor, filters by workflow, status and start time", async () => {
  const before = Date.now() - 1;
  for (let i = 0; i < 5; i++) {
    const r = await start("Pager", { id: `page-${i}`, input: { i } }, "acme");
    assert.equal(r.status, 202);
  }
  for (let i = 0; i < 5; i++) await waitEnded(`page-${i}`, "acme");
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const q = new URLSearchParams({ workflow: "Pager", status: "succeeded", limit: "2" });
    if (cursor) q.set("cursor", cursor);
    const page = await call("GET", `${EXEC}?${q}`, { tenant: "acme" });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.ok(page.body.items.length <= 2);
    for (const item of page.body.items) {
      assert.equal(item.workflow, "Pager");
      assert.equal(item.status, "succeeded");
      ids.push(item.id);
    }
    cursor = page.body.cursor;
    pages++;
  } while (cursor && pages < 10);
  assert.deepEqual(
    [...ids].sort(),
    ["page-0", "page-1", "page-2", "page-3", "page-4"],
    "every execution once",
  );
  assert.ok(pages >= 3);

  const running = await call("GET", `${EXEC}?workflow=Pager&status=running`, { tenant: "acme" });
  assert.deepEqual(running.body.items, []);
  const future = await call(
    "GET",
    `${EXEC}?startedAfter=${new Date(Date.now() + 60_000).toISOString()}`,
    {
      tenant: "acme",
    },
  );
  assert.deepEqual(future.body.items, []);
  const window = await call(
    "GET",
    `${EXEC}?startedAfter=${before}&startedBefore=${Date.now() + 1000}`,
    {
      tenant: "acme",
    },
  );
  assert.equal(window.body.items.length, 5);
  const old = await call("GET", `${EXEC}?startedBefore=${before}`, { tenant: "acme" });
  assert.equal(old.body.items.length, 0);

  // A cursor is bound to its tenant and its filters.
  const first = await call("GET", `${EXEC}?workflow=Pager&limit=2`, { tenant: "acme" });
  assert.ok(first.body.cursor);
  expectError(
    await call("GET", `${EXEC}?workflow=Pager&limit=2&cursor=${first.body.cursor}`, {
      tenant: "globex",
    }),
    400,
    "INVALID_CURSOR",
  );
  expectError(
    await call("GET", `${EXEC}?workflow=Echo&limit=2&cursor=${first.body.cursor}`, {
      tenant: "acme",
    }),
    400,
    "INVALID_CURSOR",
  );
  expectError(await call("GET", `${EXEC}?cursor=not-a-cursor`), 400, "INVALID_CURSOR");
});

test("history: pages in order, from ExecutionStarted to ExecutionSucceeded", async () => {
  const started = await start("Echo", { input: { word: "h" } }, undefined, "?wait=10");
  const id = started.body.id;
  const all = await call("GET", `${EXEC}/${id}/history`);
  const types = all.body.events.map((e: { type: string }) => e.type);
  assert.equal(types[0], "ExecutionStarted");
  assert.equal(types.at(-1), "ExecutionSucceeded");
  assert.ok(all.body.events.every((e: { at: string }) => !Number.isNaN(Date.parse(e.at))));
  const paged: unknown[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call(
      "GET",
      `${EXEC}/${id}/history?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
    );
    assert.equal(page.status, 200);
    assert.ok(page.body.events.length <= 2);
    paged.push(...page.body.events);
    cursor = page.body.cursor;
    pages++;
  } while (cursor && pages < 50);
  assert.deepEqual(paged, all.body.events);
  assert.ok(pages >= 2);
});

test("events deliver an external event; cancel stops a waiting execution; both on an ended one are 409", async () => {
  const waiting = await start("Waiter", { id: "wait-sig" });
  assert.equal(waiting.status, 202);
  const got = await call("GET", `${EXEC}/wait-sig`);
  assert.deepEqual(got.body.current, [
    {
      thread: "root",
      state: "AwaitGo",
      attempt: 1,
      waiting: "event:go",
      enteredAt: got.body.current[0].enteredAt,
    },
  ]);
  const sent = await call("POST", `${EXEC}/wait-sig/events`, {
    body: { event: "go", payload: { ok: true } },
  });
  assert.equal(sent.status, 202, JSON.stringify(sent.body));
  const done = await waitEnded("wait-sig");
  assert.equal(done.body.status, "succeeded");
  assert.deepEqual(done.body.output, { go: { ok: true } });
  expectError(
    await call("POST", `${EXEC}/wait-sig/events`, { body: { event: "go" } }),
    409,
    "EXECUTION_ENDED",
  );

  await start("Waiter", { id: "wait-cancel" });
  const cancelled = await call("POST", `${EXEC}/wait-cancel/cancel`, { body: { reason: "test" } });
  assert.equal(cancelled.status, 202);
  assert.equal(cancelled.body.cancelRequested, true);
  const ended = await waitEnded("wait-cancel");
  assert.equal(ended.body.status, "cancelled");
  assert.ok(
    Date.parse(String(ended.body.endedAt)) >= Date.parse(String(ended.body.startedAt)),
    "endedAt is when the cancel ended it",
  );
  const again = await call("POST", `${EXEC}/wait-cancel/cancel`);
  assert.equal(again.status, 202, "a retried cancel is answered as the first: it took effect");
  const late = await call("POST", `${EXEC}/wait-sig/cancel`);
  expectError(late, 409, "EXECUTION_ENDED");
  assert.match(JSON.stringify(late.body), /\(succeeded\)/, "the 409 names the status it ended in");
});

test("tenants never see each other's executions: get, list, history, cancel and events are 404", async () => {
  const mine = await start("Waiter", { id: "secret-1" }, "acme");
  assert.equal(mine.status, 202);
  const other = { tenant: "globex" };
  expectError(await call("GET", `${EXEC}/secret-1`, other), 404, "UNKNOWN_EXECUTION");
  expectError(await call("GET", `${EXEC}/secret-1/history`, other), 404, "UNKNOWN_EXECUTION");
  expectError(await call("POST", `${EXEC}/secret-1/cancel`, other), 404, "UNKNOWN_EXECUTION");
  expectError(
    await call("POST", `${EXEC}/secret-1/events`, { ...other, body: { event: "go" } }),
    404,
    "UNKNOWN_EXECUTION",
  );
  const listed = await call("GET", `${EXEC}?limit=100`, other);
  assert.ok(!listed.body.items.some((x: { id: string }) => x.id === "secret-1"));
  expectError(await call("GET", `${EXEC}/secret-1`), 404, "UNKNOWN_EXECUTION");
  // The same id in another tenant is another execution, not a conflict.
  const theirs = await start("Echo", { id: "secret-1", input: { word: "g" } }, "globex");
  assert.equal(theirs.status, 202);
  const still = await call("GET", `${EXEC}/secret-1`, { tenant: "acme" });
  assert.equal(still.body.workflow, "Waiter");
  assert.equal(still.body.status, "running", "globex's calls left acme's execution alone");
  await call("POST", `${EXEC}/secret-1/cancel`, { tenant: "acme" });

  expectError(await call("GET", `${EXEC}`, { tenant: "initech" }), 403, "UNKNOWN_TENANT");
  expectError(await call("GET", `${EXEC}`, { tenant: "no#pe" }), 400, "INVALID_TENANT");
});

function event(
  method: string,
  path: string,
  headers: Record<string, string>,
  claims?: Record<string, string>,
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers,
    isBase64Encoded: false,
    requestContext: {
      accountId: "1",
      apiId: "a",
      domainName: "x",
      domainPrefix: "x",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "1.2.3.4", userAgent: "t" },
      requestId: "r1",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
      ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

test("with a JWT authorizer the tenant comes from the token's claim, never from the header", async () => {
  await start("Pager", { id: "jwt-1" }, "acme");
  await waitEnded("jwt-1", "acme");
  // As deployed on AWS: not the local stack, so the header is never read.
  const jwt = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    config: {
      ...config,
      auth: {
        type: "jwt",
        issuer: "https://issuer.example",
        audience: ["api"],
        tenantClaim: "tenant",
      },
    },
  });
  const asAcme = await jwt(
    event("GET", `${EXEC}/jwt-1`, { "x-cascade-tenant": "globex" }, { tenant: "acme" }),
  );
  assert.equal(asAcme.statusCode, 200);
  const asGlobex = await jwt(
    event("GET", `${EXEC}/jwt-1`, { "x-cascade-tenant": "acme" }, { tenant: "globex" }),
  );
  assert.equal(asGlobex.statusCode, 404);
  const noClaim = await jwt(event("GET", `${EXEC}/jwt-1`, {}, { sub: "someone" }));
  assert.equal(noClaim.statusCode, 403);
  const code = JSON.parse(String(noClaim.body)).error.code;
  assert.equal(code, "TENANT_MISSING");
  seen.add(code);
});

test("apps, workflows with their definitions, and validation of a definition", async () => {
  const apps = await call("GET", "/v1/apps");
  assert.equal(apps.status, 200);
  assert.deepEqual(apps.body.apps[0].name, "shop");
  assert.ok(apps.body.apps[0].workflows.includes("Echo"));
  const app = await call("GET", "/v1/apps/shop");
  assert.equal(app.body.triggers.length, 2);
  const workflows = await call("GET", "/v1/apps/shop/workflows");
  assert.deepEqual(
    workflows.body.items.map((w: { name: string }) => w.name),
    ["Echo", "Pager", "Slow", "Strict", "Waiter"],
  );
  const strict = await call("GET", "/v1/apps/shop/workflows/Strict");
  assert.equal(strict.body.source, WORKFLOWS["strict.yaml"]);
  assert.deepEqual(strict.body.inputSchema.required, ["customer_id"]);
  assert.deepEqual(strict.body.states, [{ name: "Ok", type: "Pass" }]);
  expectError(await call("GET", "/v1/apps/shop/workflows/Nope"), 404, "UNKNOWN_WORKFLOW");

  const good = await call("POST", "/v1/validate", { body: { source: WORKFLOWS["echo.yaml"] } });
  assert.equal(good.status, 200);
  assert.equal(good.body.valid, true);
  assert.equal(good.body.name, "Echo");
  const bad = await call("POST", "/v1/validate", {
    raw: "states:\n  - { name: A, type: Pass, next: Nowhere }\n  - { name: B, type: Bogus, end: true }\n",
    headers: { "content-type": "application/yaml" },
  });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.valid, false);
  const codes = bad.body.diagnostics.map((d: { code: string }) => d.code);
  assert.ok(codes.includes("CDL_UNKNOWN_TARGET"), JSON.stringify(codes));
  assert.ok(bad.body.diagnostics.length >= 2, "every problem, not the first");
  const target = bad.body.diagnostics.find(
    (d: { code: string }) => d.code === "CDL_UNKNOWN_TARGET",
  );
  assert.equal(target.line, 2, "with its line");
});

test("HTTP triggers from cascade.yaml start their workflow, async or sync, idempotent on Idempotency-Key", async () => {
  const accepted = await call("POST", "/orders", { body: { word: "trig" } });
  assert.equal(accepted.status, 202);
  assert.equal(accepted.body.workflow, "Echo");
  const sync = await call("POST", "/orders/now", {
    body: { word: "now" },
    headers: { "idempotency-key": "order-77" },
  });
  assert.equal(sync.status, 200);
  assert.equal(sync.body.id, "order-77");
  assert.deepEqual(sync.body.output, { word: "now", shout: "NOW" });
  const again = await call("POST", "/orders/now", {
    body: { word: "now" },
    headers: { "idempotency-key": "order-77" },
  });
  assert.equal(again.status, 200);
  assert.equal(again.body.id, "order-77");
  expectError(await call("GET", "/orders"), 405, "METHOD_NOT_ALLOWED");
});

test("every error has its code and status, and nothing is half-written", async () => {
  expectError(
    await call("POST", "/v1/apps/shop/workflows/Echo/executions", {
      raw: '{"input": {',
      headers: { "content-type": "application/json" },
    }),
    400,
    "INVALID_JSON",
  );
  expectError(await start("Echo", [1, 2]), 400, "INVALID_BODY");
  const unknownField = await start("Echo", { input: {}, id: "half-0", wat: 1 });
  expectError(unknownField, 400, "INVALID_BODY");
  assert.equal(unknownField.body.error.problems[0].path, "body.wat");
  expectError(await start("Echo", { input: {} }, undefined, "?wait=30"), 400, "INVALID_QUERY");
  expectError(await call("GET", `${EXEC}?status=bogus`), 400, "INVALID_QUERY");
  expectError(await call("GET", `${EXEC}?colour=red`), 400, "INVALID_QUERY");
  expectError(await start("Echo", { id: "no spaces", input: {} }), 400, "INVALID_ID");
  expectError(await call("GET", `${EXEC}/no%20spaces`), 400, "INVALID_ID");
  const invalid = await start("Strict", { id: "half-1", input: { customer_id: 7 } });
  expectError(invalid, 422, "INVALID_INPUT");
  assert.deepEqual(
    invalid.body.error.problems.map((p: { path: string }) => p.path),
    ["input.customer_id"],
  );
  expectError(await call("GET", "/v1/apps/other/executions"), 404, "UNKNOWN_APP");
  expectError(await start("Nope", { id: "half-2", input: {} }), 404, "UNKNOWN_WORKFLOW");
  expectError(await call("GET", `${EXEC}/never-was`), 404, "UNKNOWN_EXECUTION");
  expectError(await call("GET", "/v2/apps"), 404, "UNKNOWN_ROUTE");
  const wrong = await call("DELETE", `${EXEC}/x`);
  expectError(wrong, 405, "METHOD_NOT_ALLOWED");
  assert.equal(wrong.headers.get("allow"), "GET");
  const big = await start("Echo", { id: "half-3", input: { word: "y".repeat(70 * 1024) } });
  expectError(big, 413, "PAYLOAD_TOO_LARGE");
  assert.match(big.body.error.message, /65536/);
  expectError(
    await call("POST", "/v1/apps/shop/workflows/Echo/executions", {
      raw: "input=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    }),
    415,
    "UNSUPPORTED_MEDIA_TYPE",
  );
  for (const id of ["half-0", "half-1", "half-2", "half-3"])
    expectError(await call("GET", `${EXEC}/${id}`), 404, "UNKNOWN_EXECUTION");
  const listed = await call("GET", `${EXEC}?limit=100`);
  assert.ok(!listed.body.items.some((x: { id: string }) => x.id.startsWith("half-")));
});

test("a store fault is a 500 INTERNAL that leaks no detail", async () => {
  const broken = new Proxy(stack.store, {
    get(target, key) {
      if (key === "getExecution") return async () => Promise.reject(new Error("secret table name"));
      return Reflect.get(target, key);
    },
  }) as ExecutionStore;
  const lines: string[] = [];
  const faulty = createApiHandler({
    runtime: stack.runtime,
    store: broken,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    local: true,
    log: (line) => lines.push(line),
  });
  const answer = await faulty(event("GET", `${EXEC}/x`, {}));
  assert.equal(answer.statusCode, 500);
  const body = JSON.parse(String(answer.body));
  assert.equal(body.error.code, "INTERNAL");
  assert.doesNotMatch(body.error.message, /secret/);
  assert.match(lines.join("\n"), /secret table name/);
  seen.add(body.error.code);
});

test("the metrics routes of an API built without a metrics source answer 503 METRICS_UNAVAILABLE", async () => {
  expectError(
    await call("GET", "/v1/apps/shop/metrics/workflows?period=5m"),
    503,
    "METRICS_UNAVAILABLE",
  );
  expectError(
    await call("GET", "/v1/apps/shop/metrics/activities/a?period=5x"),
    503,
    "METRICS_UNAVAILABLE",
  );
  expectError(await call("GET", "/v1/apps/other/metrics/workflows"), 404, "UNKNOWN_APP");
});

/** Codes of identity and of the local server's own checks: test/api/identity.test.ts answers them. */
const IDENTITY_CODES = ["UNAUTHENTICATED", "UNKNOWN_PRINCIPAL", "FORBIDDEN_ORIGIN"];
/** Codes of redrive: test/api/redrive.test.ts and redrive-branch.test.ts answer them. */
const REDRIVE_CODES = [
  "EXECUTION_RUNNING",
  "UNKNOWN_STATE",
  "STATE_IN_BRANCH",
  "UNKNOWN_THREAD",
  "THREAD_REQUIRED",
  "STATE_NOT_ENTERED",
  "FROM_STATE_REQUIRED",
];

test("every documented error code was answered by some test above", () => {
  assert.deepEqual(
    [...seen].sort(),
    Object.keys(API_ERRORS)
      .filter((code) => !IDENTITY_CODES.includes(code) && !REDRIVE_CODES.includes(code))
      .sort(),
  );
});

test("ApiLatency on Lambda: one EMF line per request, the [app] roll-up the p99 alarm reads", () => {
  const lines: string[] = [];
  new EmfMetrics((line) => lines.push(line)).apiLatency("shop", 42, Date.UTC(2026, 0, 1));
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0] ?? "{}"), {
    _aws: {
      Timestamp: Date.UTC(2026, 0, 1),
      CloudWatchMetrics: [
        {
          Namespace: "Cascade",
          Dimensions: [["app"]],
          Metrics: [{ Name: "ApiLatency", Unit: "Milliseconds" }],
        },
      ],
    },
    app: "shop",
    ApiLatency: 42,
  });
});
