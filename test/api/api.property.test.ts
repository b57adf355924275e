/**
 * Property: whatever request arrives, the real HTTP server on the embedded stack answers
 * it with JSON — a documented error code for every 4xx, never a 5xx — leaves
 * `Object.prototype` alone, and keeps answering. fast-check composes methods, paths
 * built from the real routes with hostile segments, query strings, headers and bodies.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { API_ERRORS, createApiHandler } from "../../lib/api/index.ts";
import { readAppConfig } from "../../lib/app/config.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

let stack: LocalStack;
let server: HttpServer;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-prop-"));
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: shop\ntenants: [default, acme]\ntriggers:\n  - { method: POST, path: /orders, workflow: Waiter }\n",
  );
  const config = await readAppConfig(dir);
  stack = await startLocalStack({
    app: "shop",
    workflows: [
      {
        file: "waiter.yaml",
        source:
          "name: Waiter\nstates:\n  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 30s, end: true }\n",
      },
    ],
    activities: new Map(),
    ephemeral: true,
    runtime: { log: () => {} },
  });
  server = await startHttpServer({
    handler: createApiHandler({
      runtime: stack.runtime,
      store: stack.store,
      payloads: stack.payloads,
      definitions: stack.definitions,
      app: "shop",
      config,
      local: true,
      log: () => {},
    }),
    port: 0,
    warn: () => {},
  });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        // Well-formed HTTP: the body's length is declared (a GET's too).
        headers: {
          ...headers,
          ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }),
        },
        setHost: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Path segments: real names, ids, and hostile ones (percent-encoded, as on the wire). */
const segment = fc.oneof(
  fc.constantFrom("shop", "Waiter", "x", "..", "%2F", "%00", "%ZZ", "__proto__", "constructor"),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: "grapheme", maxLength: 20 }).map(encodeURIComponent),
  fc.nat({ max: 3000 }).map((n) => "a".repeat(n)),
);

const TEMPLATES = [
  "/v1/apps",
  "/v1/apps/{}",
  "/v1/apps/{}/workflows",
  "/v1/apps/{}/workflows/{}",
  "/v1/apps/{}/workflows/{}/executions",
  "/v1/apps/{}/executions",
  "/v1/apps/{}/executions/{}",
  "/v1/apps/{}/executions/{}/history",
  "/v1/apps/{}/executions/{}/cancel",
  "/v1/apps/{}/executions/{}/events",
  "/v1/validate",
  "/orders",
  "/{}",
  "/v1/{}/{}/{}",
];

const path = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(segment, { minLength: 4, maxLength: 4 }))
  .map(([template, parts]) => {
    let i = 0;
    return template.replace(/\{\}/g, () => parts[i++] ?? "x");
  });

const query = fc.oneof(
  fc.constant(""),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          "limit",
          "cursor",
          "status",
          "wait",
          "workflow",
          "startedAfter",
          "__proto__",
          "x",
        ),
        fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constant("")),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
);

const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
const body = fc.oneof(
  fc.constant(undefined),
  json,
  fc
    .record(
      {
        input: fc.jsonValue({ maxDepth: 3 }),
        id: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
        event: fc.oneof(fc.constantFrom("go", "__proto__"), fc.string({ maxLength: 10 })),
        payload: fc.jsonValue({ maxDepth: 3 }),
        source: fc.string({ maxLength: 200 }),
        reason: fc.string({ maxLength: 50 }),
        __proto__: fc.constant({ polluted: true }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

const headers = fc.record(
  {
    "content-type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/yaml",
      "text/plain",
      "application/x-www-form-urlencoded",
      "",
    ),
    "x-cascade-tenant": fc.oneof(
      fc.constantFrom("default", "acme", "globex", "__proto__", "..", ""),
      fc.string({ maxLength: 70 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    ),
    origin: fc.constantFrom("http://127.0.0.1", "https://evil.example", "null"),
    "idempotency-key": fc.string({ maxLength: 20 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  },
  { requiredKeys: [] },
);

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
const CODES = new Set(Object.keys(API_ERRORS));

test(`random requests: JSON answers, coded 4xx, never 5xx, nothing polluted (${RUNS} runs)`, async () => {
  const host = new URL(server.url).host;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
      path,
      query,
      headers,
      body,
      async (method, p, q, h, b) => {
        const sent = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ""));
        const answer = await send(method, `${p}${q}`, { host, ...sent }, b);
        assert.ok(answer.status < 500, `${answer.status} ${answer.text.slice(0, 300)}`);
        const parsed = JSON.parse(answer.text) as { error?: { code?: string } };
        if (answer.status >= 400)
          assert.ok(
            CODES.has(String(parsed.error?.code)),
            `undocumented ${answer.text.slice(0, 200)}`,
          );
        assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_KEYS);
        assert.equal(({} as { polluted?: unknown }).polluted, undefined);
      },
    ),
    { numRuns: RUNS },
  );
  const alive = await send("GET", "/v1/apps", { host }, undefined);
  assert.equal(alive.status, 200);
});
