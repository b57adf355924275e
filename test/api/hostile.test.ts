/**
 * The hostile-input corpus (issue 12, DESIGN.md invariant 8): CDL files, cascade.yaml,
 * API bodies, headers, query strings, path segments, expressions and event payloads,
 * each sent as a user would (raw HTTP to the local server on the embedded stack, or the
 * file parsers). Every case must get a coded 4xx or a validation error — never a 500,
 * never a crash, never a changed `Object.prototype` — and the server keeps answering.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { API_ERRORS, createApiHandler } from "../../lib/api/index.ts";
import { parseAppConfig, readAppConfig } from "../../lib/app/config.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const WORKFLOWS = {
  "waiter.yaml": `name: Waiter
states:
  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 120s, result: $.go, end: true }
`,
  "strict.yaml": `name: Strict
input_schema:
  type: object
  required: [customer_id]
  properties:
    customer_id: { type: string, maxLength: 64 }
  additionalProperties: false
states:
  - { name: Ok, type: Pass, end: true }
`,
};

let stack: LocalStack;
let server: HttpServer;
let dir: string;
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cascade-hostile-"));
  writeFileSync(join(dir, "cascade.yaml"), "name: shop\ntenants: [default, acme]\n");
  const config = await readAppConfig(dir);
  stack = await startLocalStack({
    app: "shop",
    workflows: Object.entries(WORKFLOWS).map(([file, source]) => ({ file, source })),
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
    config,
    local: true,
    log: () => {},
  });
  server = await startHttpServer({ handler, port: 0, warn: () => {} });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

interface HttpCase {
  readonly name: string;
  readonly method: string;
  /** Sent as is (already percent-encoded where it must be). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** 200 with `valid: false` and coded diagnostics (POST /v1/validate). */
  readonly diagnostics?: boolean;
}

/** One raw request: any path, any header. */
function send(c: HttpCase): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: c.method,
        path: c.path,
        headers: {
          host: url.host,
          ...(c.method === "GET" ? {} : { "content-type": "application/json" }),
          ...c.headers,
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
    req.end(c.body);
  });
}

const APP = "/v1/apps/shop";
const EXEC = `${APP}/executions`;
const START = (workflow: string) => `${APP}/workflows/${workflow}/executions`;
const LONG = "a".repeat(10_000);
const enc = encodeURIComponent;

// Path segments ------------------------------------------------------------------------
const BAD_SEGMENTS = [
  "..",
  "%2E%2E",
  ".",
  "%2F",
  "a%2Fb",
  "..%2F..%2Fetc%2Fpasswd",
  enc("é"),
  enc("日本"),
  enc("💥"),
  enc("\u0000"),
  enc("\u202e"),
  "%00",
  "%ZZ",
  "%E0%A4%A",
  "%",
  enc(LONG),
  enc("__proto__"),
  enc("constructor"),
  enc(" "),
  enc("-leading-dash"),
  enc("a".repeat(129)),
  enc("x'; DROP TABLE"),
  enc("$(id)"),
  enc("<script>"),
];

const pathCases: HttpCase[] = [];
for (const segment of BAD_SEGMENTS) {
  pathCases.push(
    { name: `GET execution ${segment.slice(0, 30)}`, method: "GET", path: `${EXEC}/${segment}` },
    {
      name: `GET history ${segment.slice(0, 30)}`,
      method: "GET",
      path: `${EXEC}/${segment}/history`,
    },
    {
      name: `POST cancel ${segment.slice(0, 30)}`,
      method: "POST",
      path: `${EXEC}/${segment}/cancel`,
      body: "{}",
    },
    {
      name: `POST events ${segment.slice(0, 30)}`,
      method: "POST",
      path: `${EXEC}/${segment}/events`,
      body: '{"event":"go"}',
    },
    {
      name: `GET workflow ${segment.slice(0, 30)}`,
      method: "GET",
      path: `${APP}/workflows/${segment}`,
    },
    {
      name: `POST start ${segment.slice(0, 30)}`,
      method: "POST",
      path: START(segment),
      body: "{}",
    },
    { name: `GET app ${segment.slice(0, 30)}`, method: "GET", path: `/v1/apps/${segment}` },
  );
}
pathCases.push(
  { name: "unknown version", method: "GET", path: "/v2/apps" },
  { name: "root", method: "GET", path: "/" },
  { name: "double slashes", method: "GET", path: "//v1//apps" },
  { name: "long path", method: "GET", path: `/v1/${LONG}` },
  { name: "many segments", method: "GET", path: `/v1${"/a".repeat(2000)}` },
  { name: "PUT on a GET route", method: "PUT", path: EXEC, body: "{}" },
  { name: "DELETE an execution", method: "DELETE", path: `${EXEC}/x` },
  { name: "PATCH", method: "PATCH", path: APP, body: "{}" },
  { name: "unknown method", method: "PURGE", path: APP, body: "{}" },
  { name: "GET on a POST route", method: "GET", path: `${EXEC}/x/cancel` },
);

// Query strings ------------------------------------------------------------------------
const LIST_QUERIES = [
  "limit=-1",
  "limit=0",
  "limit=101",
  "limit=1.5",
  "limit=1e309",
  "limit=NaN",
  "limit=Infinity",
  "limit=0x10",
  "limit=",
  "limit=%20",
  `limit=${"9".repeat(400)}`,
  "status=bogus",
  "status=RUNNING",
  "status=",
  "startedAfter=yesterday",
  "startedAfter=9999999999999999999999",
  "startedBefore=2026-13-45T99:99:99Z",
  `startedAfter=${LONG.slice(0, 5000)}`,
  "cursor=",
  "cursor=!!!",
  "cursor=e30",
  `cursor=${Buffer.from(JSON.stringify({ t: "acme", s: "x", c: "y" })).toString("base64url")}`,
  `cursor=${Buffer.from(JSON.stringify({ t: "default", s: '["shop",null,null,null,null]', c: "garbage" })).toString("base64url")}`,
  `cursor=${Buffer.from(JSON.stringify({ t: "default", s: '["shop",null,null,null,null]', c: Buffer.from('{"pk":{"S":"X#acme#x"},"sk":{"S":"EXEC"}}').toString("base64url") })).toString("base64url")}`,
  `cursor=${LONG}`,
  "__proto__=1",
  "__proto__[polluted]=1",
  "constructor[prototype][polluted]=1",
  "unknown=1",
  `${LONG.slice(0, 3000)}=1`,
  "limit=1&limit=2&limit=-5",
  `x=${LONG}`,
  "%ZZ=1",
  `workflow=${enc("\u0000")}&status=bogus`,
];
const queryCases: HttpCase[] = [
  ...LIST_QUERIES.map((q) => ({
    name: `list ?${q.slice(0, 40)}`,
    method: "GET",
    path: `${EXEC}?${q}`,
  })),
  ...["limit=0", "limit=1001", "cursor=abc", "cursor=e30", "wait=1", "limit=-1&cursor="].map(
    (q) => ({
      name: `history ?${q}`,
      method: "GET",
      path: `${EXEC}/hostile-wait/history?${q}`,
    }),
  ),
  ...["wait=-1", "wait=30", "wait=1.5", "wait=abc", "wait=", "limit=1"].map((q) => ({
    name: `get ?${q}`,
    method: "GET",
    path: `${EXEC}/hostile-wait?${q}`,
  })),
  ...["wait=-1", "wait=30", "wait=1.5", "wait=abc", "wait=", "limit=1", "wait=1e3"].map((q) => ({
    name: `start ?${q}`,
    method: "POST",
    path: `${START("Waiter")}?${q}`,
    body: "{}",
  })),
  { name: "a query string over 8 KB", method: "GET", path: `${EXEC}?limit=${"1".repeat(9000)}` },
];

// Headers --------------------------------------------------------------------------------
const TENANTS = [
  "",
  " ",
  "..",
  "../acme",
  "acme/../default",
  "ACME",
  "ac me",
  "__proto__",
  "constructor",
  "toString",
  "initech",
  "x".repeat(65),
  LONG,
  "caf\u00e9",
  "a,b",
  "default,acme",
  "-acme",
];
const TYPES = [
  "text/plain",
  "text/html",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/jsonx",
  "json",
  "application/",
  "*/*",
  ";",
  "application/json x",
  "application/yaml",
];
const headerCases: HttpCase[] = [
  ...TENANTS.map((tenant) => ({
    name: `tenant '${tenant.slice(0, 20)}'`,
    method: "GET",
    path: EXEC,
    headers: { "x-cascade-tenant": tenant },
  })),
  ...TENANTS.slice(0, 8).map((tenant) => ({
    name: `start as tenant '${tenant.slice(0, 20)}'`,
    method: "POST",
    path: START("Waiter"),
    headers: { "x-cascade-tenant": tenant },
    body: "{}",
  })),
  ...TYPES.map((type) => ({
    name: `start with content-type ${type.slice(0, 30)}`,
    method: "POST",
    path: START("Waiter"),
    headers: { "content-type": type },
    body: '{"input":{}}',
  })),
  ...[
    "https://evil.example",
    "null",
    "http://127.0.0.1.evil.example",
    "file://",
    "http://localhost.evil.example:4000",
    "javascript:alert(1)",
    LONG,
  ].map((origin) => ({
    name: `origin ${origin.slice(0, 30)}`,
    method: "POST",
    path: START("Waiter"),
    headers: { origin },
    body: "{}",
  })),
  ...[
    "evil.example",
    "localhost.evil.example",
    "127.0.0.1.nip.io",
    "",
    LONG.slice(0, 2000),
    "[::1",
  ].map((host) => ({
    name: `host ${host.slice(0, 30)}`,
    method: "GET",
    path: APP,
    headers: { host },
  })),
  {
    name: "cross-site fetch metadata",
    method: "POST",
    path: START("Waiter"),
    headers: { "sec-fetch-site": "cross-site" },
    body: "{}",
  },
  {
    name: "base64 claim of a body with a yaml type on a JSON route",
    method: "POST",
    path: START("Waiter"),
    headers: { "content-type": "application/yaml" },
    body: "input: {}",
  },
];

// API bodies -------------------------------------------------------------------------------
const deep = (n: number, open: string, close: string, inner = "1") =>
  open.repeat(n) + inner + close.repeat(n);
const START_BODIES = [
  "{",
  "}",
  "nul",
  "[]",
  "null",
  "1",
  '"x"',
  "true",
  '{"input":{}} trailing',
  '{"input":1,}',
  "{'input':1}",
  '{"id":1}',
  '{"id":null}',
  '{"id":""}',
  '{"id":"../x"}',
  '{"id":"a/b"}',
  `{"id":"${"a".repeat(129)}"}`,
  `{"id":"${LONG}"}`,
  '{"id":"é"}',
  '{"id":["a"]}',
  '{"inputs":{}}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"input":{},"__proto__":{"polluted":true}}',
  `{"input":${deep(100_000, "[", "]")}}`,
  `{"input":${deep(600, '{"a":', "}")}}`,
  deep(100_000, "[", "]"),
  "\u0000",
  "\ufeff{}x",
  `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":1`).join(",")}}`,
];
const bodyCases: HttpCase[] = [
  ...START_BODIES.map((body) => ({
    name: `start body ${JSON.stringify(body.slice(0, 30))}`,
    method: "POST",
    path: START("Waiter"),
    body,
  })),
  ...[
    "{}",
    '{"customer_id":1}',
    '{"customer_id":"x","extra":1}',
    `{"customer_id":"${"x".repeat(65)}"}`,
    "[]",
    '"x"',
    '{"__proto__":{"customer_id":"x"}}',
    '{"constructor":{"customer_id":"x"}}',
  ].map((input) => ({
    name: `strict input ${input.slice(0, 30)}`,
    method: "POST",
    path: START("Strict"),
    body: `{"input":${input}}`,
  })),
  ...[
    "",
    "{}",
    '{"event":1}',
    '{"event":""}',
    '{"event":"a b"}',
    `{"event":"${"e".repeat(129)}"}`,
    '{"event":"go","id":"../x"}',
    '{"event":"go","id":7}',
    '{"event":"go","extra":1}',
    '{"event":"__proto__ x","payload":{}}',
    `{"event":"go","payload":${deep(100_000, "[", "]")}}`,
    `{"event":"go","payload":${deep(700, '{"__proto__":', "}")}}`,
    '{"event":"go","payload":1,}',
    "[]",
    '{"__proto__":{"event":"go"}}',
    `{"event":"go","payload":"${"p".repeat(70_000)}"}`.repeat(20),
  ].map((body) => ({
    name: `event body ${JSON.stringify(body.slice(0, 30))}`,
    method: "POST",
    path: `${EXEC}/hostile-wait/events`,
    body,
  })),
  ...[
    '{"reason":1}',
    '{"reason":null}',
    `{"reason":"${"r".repeat(2000)}"}`,
    '{"why":"x"}',
    "[]",
    "{",
  ].map((body) => ({
    name: `cancel body ${body.slice(0, 30)}`,
    method: "POST",
    path: `${EXEC}/hostile-wait/cancel`,
    body,
  })),
  ...["{}", '{"source":1}', '{"source":"x","file":2}', '{"sauce":"x"}', "[]", "{", "null"].map(
    (body) => ({
      name: `validate body ${body}`,
      method: "POST",
      path: "/v1/validate",
      body,
    }),
  ),
  {
    name: "a body over the limit",
    method: "POST",
    path: START("Waiter"),
    body: `{"input":"${"b".repeat(1_100_000)}"}`,
  },
  {
    name: "a validate body over 256 KiB",
    method: "POST",
    path: "/v1/validate",
    body: JSON.stringify({ source: `name: X\n# ${"c".repeat(300_000)}\n` }),
  },
];

// CDL files (POST /v1/validate) ---------------------------------------------------------
const lines = (n: number, make: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => make(i)).join("\n");
const laughs = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  ...Array.from({ length: 9 }, (_, i) => {
    const prev = String.fromCharCode(97 + i);
    const name = String.fromCharCode(98 + i);
    return `${name}: &${name} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
  }),
  "name: Bomb",
  "states: *j",
].join("\n");
const CDL = [
  "",
  "   \n\n",
  "{",
  "[",
  "- a\n- b",
  "42",
  "~",
  "name: X",
  "states: []",
  "name: X\nstates: {}",
  "name: X\nname: Y\nstates:\n  - { name: A, type: Pass, end: true }",
  "name: X\nstates:\n  - { name: A, name: B, type: Pass, end: true }",
  laughs,
  "a: &a\n  b: *a\nname: X\nstates: []",
  `name: X\nstates:\n${deep(300, "  - [", "]", "1")}`,
  `name: ${deep(1000, "[", "]")}\nstates: []`,
  `name: X\nstates:\n  - { name: A, type: Pass, result: {${lines(3000, (i) => `k${i % 1500}: 1`)
    .split("\n")
    .join(", ")}}, end: true }`,
  "name: X\n\tstates: []",
  "name: !!js/function 'function(){}'\nstates: []",
  "name: !!binary aGVsbG8=\nstates: []",
  "name: !<tag:yaml.org,2002:python/object> {}\nstates: []",
  "<<: {name: X}\nstates: []",
  "? [a, b]\n: c\nname: X\nstates: []",
  "name: X\nstates:\n  - { name: A, type: Pass, end: true }\n---\nname: Y",
  "%YAML 9.9\n---\nname: X",
  'name: "\\ud800"\nstates: []',
  `name: X\nstates:\n  - { name: "${LONG}", type: Pass, end: true }`,
  "name: __proto__\nstates:\n  - { name: __proto__, type: Pass, end: true }",
  "__proto__: {polluted: true}\nname: X\nstates: []",
  "name: X\nconstructor: {prototype: {polluted: true}}\nstates: []",
  "name: X\nstates:\n  - { name: A, type: Bogus, end: true }",
  "name: X\nstates:\n  - { name: A, type: Pass, next: Nowhere }",
  "name: X\nstates:\n  - { name: A, type: Pass, next: A }",
  "name: X\nstates:\n  - { name: A, type: Task, resource: 'urn:cascade:activity:', end: true }",
  "name: X\nstates:\n  - { name: A, type: Wait, duration: 99999999999d, end: true }",
  "name: X\nstates:\n  - { name: A, type: Wait, duration: -1s, end: true }",
  "name: X\nstates:\n  - { name: A, type: Map, items: 5, iterator: [], end: true }",
  "name: X\nstates:\n  - { name: A, type: Parallel, branches: [], end: true }",
  `name: X\ninput_schema: ${deep(300, "{not: ", "}", "{}")}\nstates:\n  - { name: A, type: Pass, end: true }`,
  "name: X\nstates:\n  - { name: A, type: Choice, choices: [], default: A }",
  "name: X\nstates:\n  - name: A\n    type: Pass\n    end: true\n    retry: { errors: [x], max_attempts: 1e99 }",
  "\u0000\u0001\u0002",
  "name: X\r\nstates:\r\n  - { name: A, type: Pass, end: true }\r\n  - { name: A, type: Pass, end: true }",
  `# ${"#".repeat(50_000)}\nname: X`,
  lines(60_000, (i) => `k${i}: ${i}`),
];

// Expressions (inside CDL) ----------------------------------------------------------------
const EXPRESSIONS = [
  "{{ $.__proto__ }}",
  "{{ $.constructor.prototype }}",
  "{{ $['__proto__'] }}",
  "{{ $.a.prototype }}",
  "{{ ",
  "{{ }}",
  "{{ $. }}",
  "{{ $.a[ }}",
  "{{ $.a[-1 }}",
  `{{ ${"(".repeat(200)}1${")".repeat(200)} }}`,
  `{{ ${"-".repeat(5000)}1 }}`,
  `{{ $.${"a.".repeat(6000)}b }}`,
  "{{ $.a | nosuchfilter }}",
  "{{ $.a | }}",
  "{{ process.exit() }}",
  "{{ require('fs') }}",
  "{{ this.constructor.constructor('return process')() }}",
  "{{ $.a == }}",
  "{{ 1 +* 2 }}",
  '{{ "unterminated }}',
  `{{ '${"x".repeat(20_000)}' }}`,
  "{{ $$ }}",
  "{{ workflow.__proto__ }}",
  "{{ nosuchroot.a }}",
  "{{ $.a ? }}",
  "{{ [1,2,3][99999999999999999999] }}",
  "{{ 1e999999 }}",
  "{{ $.a }} {{",
  "{{ {{ $.a }} }}",
];
const cdlCases: HttpCase[] = [
  ...CDL.map((source, i) => ({
    name: `cdl #${i} ${JSON.stringify(source.slice(0, 30))}`,
    method: "POST",
    path: "/v1/validate",
    body: JSON.stringify({ source }),
    diagnostics: true,
  })),
  ...CDL.slice(0, 20).map((source, i) => ({
    name: `cdl as yaml body #${i}`,
    method: "POST",
    path: "/v1/validate",
    headers: { "content-type": "application/yaml" },
    body: source,
    diagnostics: true,
  })),
  ...EXPRESSIONS.flatMap((expression, i) => [
    {
      name: `expression #${i} in a Pass result ${expression.slice(0, 30)}`,
      method: "POST",
      path: "/v1/validate",
      body: JSON.stringify({
        source: `name: X\nstates:\n  - name: A\n    type: Pass\n    result: ${JSON.stringify({ v: expression })}\n    end: true\n`,
      }),
      diagnostics: true,
    },
    {
      name: `expression #${i} in a Choice ${expression.slice(0, 30)}`,
      method: "POST",
      path: "/v1/validate",
      body: JSON.stringify({
        source: `name: X\nstates:\n  - name: C\n    type: Choice\n    choices:\n      - { condition: ${JSON.stringify(expression)}, next: D }\n    default: D\n  - { name: D, type: Pass, end: true }\n`,
      }),
      diagnostics: true,
    },
  ]),
];

// cascade.yaml ---------------------------------------------------------------------------
const CONFIGS = [
  "{",
  "- a",
  "name: 1",
  "name: x\nname: y",
  "name: x\n__proto__: {polluted: true}",
  "name: x\nconstructor: {prototype: {polluted: true}}",
  "name: x\nauth: { type: root }",
  "name: x\nauth: { type: none, public: yes }",
  "name: x\ntenants: [a, b]\nauth: { type: none, public: true }",
  "name: x\ntenants: [a, b]\nauth: { type: iam }",
  "name: x\nauth: { type: iam, principals: [{ principal: '*', tenant: default }] }",
  "name: x\nauth: { type: iam, principals: [{ principal: 'arn:aws:iam::1:role/x', tenant: default }] }",
  "name: x\nauth: { type: iam, principals: [{ principal: role/x, tenant: nobody }] }",
  "name: x\nauth: { type: jwt, principals: [] }",
  "name: x\nauth: { type: jwt, issuer: http://insecure.example, audience: [a] }",
  "name: x\nauth: { type: jwt }",
  "name: x\ntenants: [a, a]",
  "name: x\ntenants: ['../x']",
  "name: x\ntenants: []",
  "name: x\ntenants: { isolation: shared }",
  "name: x\nretention: forever",
  "name: x\nretention: -1d",
  "name: x\npayloads: { offload_threshold: -1 }",
  "name: x\ntriggers: [{ path: /v1/apps, workflow: W }]",
  "name: x\ntriggers: [{ path: orders, workflow: W }]",
  "name: x\ntriggers: [{ method: TRACE, path: /o, workflow: W }]",
  "name: x\ntriggers: [{ path: /o, workflow: W, mode: sync, timeout: 1h }]",
  "name: x\ndeployments: { api: { memory: 1Ti } }",
  "name: x\ndeployments: { api: { timeout: 16m } }",
  "name: x\nmessaging: { batch_size: 100000 }",
  "name: x\nunknown_key: 1",
  laughs.replace("name: Bomb", "name: x").replace("states: *j", "tenants: *j"),
  `name: x\n# ${"y".repeat(250_000)}`,
  "name: x\n\tauth: {}",
  `name: ${LONG}`,
];

// The tests -------------------------------------------------------------------------------

const CODES = new Set(Object.keys(API_ERRORS));
const HTTP_CASES = [...pathCases, ...queryCases, ...headerCases, ...bodyCases, ...cdlCases];

const pristine = () => {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_KEYS);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
};

test(`the corpus has at least 300 cases (${HTTP_CASES.length + CONFIGS.length})`, () => {
  assert.ok(HTTP_CASES.length + CONFIGS.length >= 300);
});

test("every hostile request gets a coded 4xx (or coded diagnostics); the server keeps answering", async () => {
  // An execution that waits, for the cases that need one to exist.
  const waiting = await send({
    name: "setup",
    method: "POST",
    path: START("Waiter"),
    body: '{"id":"hostile-wait"}',
  });
  assert.equal(waiting.status, 202, waiting.text);
  const failures: string[] = [];
  for (const [i, c] of HTTP_CASES.entries()) {
    let answer: { status: number; text: string };
    try {
      answer = await send(c);
    } catch (error) {
      failures.push(`${c.name}: no answer (${(error as Error).message})`);
      continue;
    }
    let body: { error?: { code?: unknown }; valid?: unknown; diagnostics?: { code?: unknown }[] };
    try {
      body = JSON.parse(answer.text);
    } catch {
      failures.push(`${c.name}: ${answer.status} not JSON: ${answer.text.slice(0, 100)}`);
      continue;
    }
    if (c.diagnostics && answer.status === 200) {
      const diagnostics = body.diagnostics ?? [];
      if (
        body.valid !== false ||
        diagnostics.length === 0 ||
        !diagnostics.every((d) => typeof d.code === "string" && d.code.startsWith("CDL_"))
      )
        failures.push(`${c.name}: 200 without coded diagnostics: ${answer.text.slice(0, 200)}`);
    } else if (answer.status < 400 || answer.status > 499) {
      failures.push(`${c.name}: ${answer.status} ${answer.text.slice(0, 200)}`);
    } else if (typeof body.error?.code !== "string" || !CODES.has(body.error.code)) {
      failures.push(
        `${c.name}: ${answer.status} without a documented code: ${answer.text.slice(0, 200)}`,
      );
    }
    pristine();
    if (i % 50 === 0) {
      const alive = await send({ name: "alive", method: "GET", path: "/v1/apps" });
      assert.equal(alive.status, 200, `the server stopped answering after case ${i}`);
    }
  }
  assert.deepEqual(failures, []);
  const alive = await send({ name: "alive", method: "GET", path: `${EXEC}/hostile-wait` });
  assert.equal(alive.status, 200);
  assert.equal(JSON.parse(alive.text).status, "running", "nothing hostile touched it");
});

test("every hostile cascade.yaml is refused with coded diagnostics, and pollutes nothing", () => {
  const failures: string[] = [];
  for (const text of CONFIGS) {
    let result: ReturnType<typeof parseAppConfig>;
    try {
      result = parseAppConfig("cascade.yaml", text, dir);
    } catch (error) {
      failures.push(`${JSON.stringify(text.slice(0, 40))}: threw ${(error as Error).message}`);
      continue;
    }
    if (result.config !== undefined)
      failures.push(`${JSON.stringify(text.slice(0, 40))}: accepted`);
    else if (
      !result.diagnostics.every((d) => /^CONFIG_/.test(d.code)) ||
      result.diagnostics.length === 0
    )
      failures.push(
        `${JSON.stringify(text.slice(0, 40))}: ${result.diagnostics.map((d) => d.code).join(", ")}`,
      );
    pristine();
  }
  assert.deepEqual(failures, []);
});
