/**
 * Who may do what (issue 12): one test per security finding S1–S8 of the reliability
 * review, each through the API as a user would reach it (a real HTTP server in front of
 * the handler on the embedded stack, or the handler with the events API Gateway sends).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { type ApiDeps, createApiHandler } from "../../lib/api/index.ts";
import { type AppConfig, readAppConfig } from "../../lib/app/config.ts";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";
import type { ExecutionStore } from "../../lib/core/ports.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { ActivityContext, ActivityFunction } from "../../lib/runtime/activities.ts";

const WORKFLOWS = {
  "echo.yaml": `name: Echo
states:
  - { name: Keys, type: Task, resource: "urn:cascade:activity:keys", result: $.keys, end: true }
`,
  "waiter.yaml": `name: Waiter
states:
  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 60s, result: $.go, end: true }
`,
  "fan.yaml": `name: Fan
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Hold, type: WaitForEvent, event: go, timeout: 60s, end: true }
    end: true
`,
};

/** The keys each activity run was handed, by execution id and tenant. */
const keys: { tenant: string; executionId: string; idempotencyKey: string; stepKey: string }[] = [];

const ACTIVITIES = new Map<string, ActivityFunction>([
  [
    "keys",
    (async (input: { tenant?: string }, ctx: ActivityContext) => {
      keys.push({
        tenant: String(input.tenant ?? ""),
        executionId: ctx.executionId,
        idempotencyKey: ctx.idempotencyKey,
        stepKey: ctx.stepKey,
      });
      return "ok";
    }) as ActivityFunction,
  ],
]);

let stack: LocalStack;
let server: HttpServer;
let config: AppConfig;
let branchReads = 0;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-identity-"));
  writeFileSync(join(dir, "cascade.yaml"), "name: shop\ntenants: [default, acme, globex]\n");
  config = await readAppConfig(dir);
  stack = await startLocalStack({
    app: "shop",
    workflows: Object.entries(WORKFLOWS).map(([file, source]) => ({ file, source })),
    activities: ACTIVITIES,
    ephemeral: true,
    runtime: { offloadThresholdBytes: 2048, log: () => {} },
    wrapStore: (store) =>
      new Proxy(store, {
        get(target, key) {
          const value = Reflect.get(target, key);
          if (key === "branchThreads")
            return (...args: unknown[]) => {
              branchReads++;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          return typeof value === "function" ? value.bind(target) : value;
        },
      }) as ExecutionStore,
  });
  server = await startHttpServer({ handler: api({ local: true }), port: 0, warn: () => {} });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

/** The handler over the shared stack, as deployed (`local` false) unless told otherwise. */
function api(options: { config?: AppConfig; local?: boolean } = {}) {
  const deps: ApiDeps = {
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    config: options.config ?? config,
    ...(options.local ? { local: true } : {}),
    clock: { now: () => Date.now() },
  };
  return createApiHandler(deps);
}

const withAuth = (auth: AppConfig["auth"], names?: string[]): AppConfig => ({
  ...config,
  auth,
  ...(names ? { tenants: { isolation: "pooled", names } } : {}),
});

/** An event as API Gateway sends it, with what its authorizer verified. */
function event(
  method: string,
  path: string,
  options: {
    headers?: Record<string, string>;
    body?: unknown;
    userArn?: string;
    claims?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json", ...options.headers },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc",
      domainName: "abc.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "t" },
      requestId: "r",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
      ...(options.userArn
        ? {
            authorizer: {
              iam: {
                accessKey: "AKIA",
                accountId: "123456789012",
                callerId: "AROA",
                principalOrgId: null,
                userArn: options.userArn,
                userId: "AROA:s",
              },
            },
          }
        : options.claims
          ? { authorizer: { jwt: { claims: options.claims, scopes: [] } } }
          : {}),
    },
  } as unknown as APIGatewayProxyEventV2;
}

const bodyOf = (result: { body?: string | undefined }) => JSON.parse(String(result.body));
const EXEC = "/v1/apps/shop/executions";
const startPath = (workflow: string) => `/v1/apps/shop/workflows/${workflow}/executions`;

async function local(
  method: string,
  path: string,
  options: { body?: unknown; tenant?: string; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(method === "GET" ? {} : { "content-type": "application/json" }),
      ...(options.tenant ? { "x-cascade-tenant": options.tenant } : {}),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, asserted field by field
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
}

async function ended(id: string, tenant = "default") {
  const until = Date.now() + 15_000;
  for (;;) {
    const got = await local("GET", `${EXEC}/${id}`, { tenant });
    assert.equal(got.status, 200, JSON.stringify(got.body));
    if (got.body.status !== "running") return got;
    assert.ok(Date.now() < until, `${id} still running`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A raw request with any Host and headers (fetch may not set Host). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; code?: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, setHost: false },
      (res) => {
        let text = "";
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            code: text ? JSON.parse(text).error?.code : undefined,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// S1 ----------------------------------------------------------------------------------

test("S1: deployed without auth, the API answers no one; the header names no tenant", async () => {
  const open = api({ config: withAuth({ type: "none", tenantClaim: "tenant" }) });
  for (const headers of [{}, { "x-cascade-tenant": "acme" }]) {
    const got = await open(event("GET", EXEC, { headers }));
    assert.equal(got.statusCode, 401);
    assert.equal(bodyOf(got).error.code, "UNAUTHENTICATED");
  }
});

test("S1: `auth: { type: none, public: true }` serves its one tenant, whatever the header says", async () => {
  const started = await local("POST", startPath("Waiter"), {
    body: { id: "s1-public" },
    tenant: "acme",
  });
  assert.equal(started.status, 202);
  const open = api({
    config: withAuth({ type: "none", public: true, tenantClaim: "tenant" }, ["default"]),
  });
  const asHeader = await open(
    event("GET", `${EXEC}/s1-public`, { headers: { "x-cascade-tenant": "acme" } }),
  );
  assert.equal(asHeader.statusCode, 404, "the header does not reach acme's execution");
  const listed = await open(event("GET", EXEC, { headers: { "x-cascade-tenant": "acme" } }));
  assert.equal(listed.statusCode, 200);
  assert.ok(bodyOf(listed).items.every((e: { id: string }) => e.id !== "s1-public"));
});

test("S1: cascade.yaml refuses `public: true` with several tenants, and `public` without type none", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-identity-cfg-"));
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: x\ntenants: [a, b]\nauth: { type: none, public: true }\n",
  );
  await assert.rejects(readAppConfig(dir), /exactly one tenant/);
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: x\ntenants: [a]\nauth: { type: jwt, issuer: https://i.example, audience: [x], public: true }\n",
  );
  await assert.rejects(readAppConfig(dir), /public/);
});

// S2 ----------------------------------------------------------------------------------

const iamConfig = () =>
  withAuth({
    type: "iam",
    tenantClaim: "tenant",
    principals: [
      { principal: "role/shop-acme", tenant: "acme" },
      { principal: "arn:aws:iam::210987654321:role/ops/globex-caller", tenant: "globex" },
    ],
  });

test("S2: with auth iam the tenant is the verified principal's, never the header's", async () => {
  const started = await local("POST", startPath("Waiter"), {
    body: { id: "s2-acme" },
    tenant: "acme",
  });
  assert.equal(started.status, 202);
  const iam = api({ config: iamConfig() });
  const acmeRole = "arn:aws:sts::123456789012:assumed-role/shop-acme/cli-session";
  const asAcme = await iam(
    event("GET", `${EXEC}/s2-acme`, {
      userArn: acmeRole,
      headers: { "x-cascade-tenant": "globex" },
    }),
  );
  assert.equal(asAcme.statusCode, 200, String(asAcme.body));
  assert.equal(bodyOf(asAcme).tenant, "acme");

  const globexRole = "arn:aws:sts::210987654321:assumed-role/globex-caller/s";
  const asGlobex = await iam(
    event("GET", `${EXEC}/s2-acme`, {
      userArn: globexRole,
      headers: { "x-cascade-tenant": "acme" },
    }),
  );
  assert.equal(asGlobex.statusCode, 404, "globex's role cannot name acme with the header");

  // The same role name in another account is another principal.
  const stranger = await iam(
    event("GET", `${EXEC}/s2-acme`, {
      userArn: "arn:aws:sts::999999999999:assumed-role/shop-acme/s",
      headers: { "x-cascade-tenant": "acme" },
    }),
  );
  assert.equal(stranger.statusCode, 403);
  assert.equal(bodyOf(stranger).error.code, "UNKNOWN_PRINCIPAL");

  const unsigned = await iam(event("GET", EXEC, { headers: { "x-cascade-tenant": "acme" } }));
  assert.equal(unsigned.statusCode, 401);
  assert.equal(bodyOf(unsigned).error.code, "UNAUTHENTICATED");
});

test("S2: a multi-tenant app cannot use auth iam without a principal map", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-identity-iam-"));
  writeFileSync(join(dir, "cascade.yaml"), "name: x\ntenants: [a, b]\nauth: { type: iam }\n");
  await assert.rejects(readAppConfig(dir), /principals/);
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: x\ntenants: [a]\nauth: { type: iam, principals: [{ principal: role/r, tenant: z }] }\n",
  );
  await assert.rejects(readAppConfig(dir), /'z' is not one of tenants/);
});

test("with JWT auth the tenant is the claim's; a header or a token without it names none", async () => {
  const jwt = api({
    config: withAuth({
      type: "jwt",
      issuer: "https://issuer.example",
      audience: ["api"],
      tenantClaim: "org",
    }),
  });
  const mine = await jwt(event("GET", EXEC, { claims: { org: "globex" } }));
  assert.equal(mine.statusCode, 200);
  const none = await jwt(event("GET", EXEC, { headers: { "x-cascade-tenant": "acme" } }));
  assert.equal(bodyOf(none).error.code, "TENANT_MISSING");
  const proto = await jwt(event("GET", EXEC, { claims: { sub: "x" } }));
  assert.equal(bodyOf(proto).error.code, "TENANT_MISSING");
});

// S3 ----------------------------------------------------------------------------------

test("S3: user data shaped like a payload reference is data: history shows it, reads nothing", async () => {
  const forged = [
    { $ref: "payloads/someone-else/0123.json", bytes: 1 },
    { $cascadeRef: "payloads/s3-forge/deadbeef.json", bytes: 1 },
    { $cascadeRef: "payloads/default/s3-forge/deadbeef.json", bytes: 1 },
    { ref: "payloads/default/s3-forge/deadbeef.json", bytes: 1 },
  ];
  const started = await local("POST", startPath("Echo"), {
    body: { id: "s3-forge", input: { forged } },
  });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  await ended("s3-forge");
  const history = await local("GET", `${EXEC}/s3-forge/history`);
  assert.equal(history.status, 200, JSON.stringify(history.body));
  const first = history.body.events.find((e: { type: string }) => e.type === "ExecutionStarted");
  assert.deepEqual(first.input, { forged });
  const got = await local("GET", `${EXEC}/s3-forge`);
  assert.deepEqual(got.body.input, { forged });
  // An input that is itself shaped like a reference to this execution's own payloads.
  for (const [id, input] of [
    ["s3-exact", { $cascadeRef: "payloads/s3-exact/deadbeef.json", bytes: 1 }],
    ["s3-exact-t", { $cascadeRef: "payloads/default/s3-exact-t/deadbeef.json", bytes: 1 }],
    ["s3-exact-r", { ref: "payloads/default/s3-exact-r/deadbeef.json", bytes: 1 }],
  ] as const) {
    assert.equal((await local("POST", startPath("Waiter"), { body: { id, input } })).status, 202);
    const events = await local("GET", `${EXEC}/${id}/history`);
    assert.equal(events.status, 200, JSON.stringify(events.body));
    assert.deepEqual(events.body.events[0].input, input, "the user's own data, as sent");
    await local("POST", `${EXEC}/${id}/cancel`, { body: {} });
  }
  // Values that are offloaded still come back (the reference is the runtime's own).
  const big = { word: "z".repeat(9000), forged: forged[1] };
  await local("POST", startPath("Echo"), { body: { id: "s3-big", input: big } });
  await ended("s3-big");
  const bigHistory = await local("GET", `${EXEC}/s3-big/history`);
  const bigFirst = bigHistory.body.events.find(
    (e: { type: string }) => e.type === "ExecutionStarted",
  );
  assert.deepEqual(bigFirst.input, big);
});

// S4 ----------------------------------------------------------------------------------

const yamlWithKeys = (n: number): string => {
  let text = "name: Big\nstates:\n  - name: A\n    type: Pass\n    result:\n";
  for (let i = 0; i < n; i++) text += `      k${i}: 1\n`;
  return `${text}    end: true\n`;
};

test("S4: the duplicate-key check is linear: 8x the keys costs well under 24x the time", () => {
  const time = (n: number) => {
    const text = yamlWithKeys(n);
    const t0 = performance.now();
    validateWorkflow("w.yaml", text);
    return performance.now() - t0;
  };
  time(2000); // warm up
  const small = Math.min(time(4000), time(4000));
  const large = time(32_000);
  assert.ok(
    large < small * 24,
    `4,000 keys: ${small.toFixed(0)} ms; 32,000 keys: ${large.toFixed(0)} ms`,
  );
  const dup = validateWorkflow(
    "w.yaml",
    "name: D\nname: E\nstates:\n  - { name: A, type: Pass, end: true }\n",
  );
  assert.deepEqual(
    dup.diagnostics.map((d) => `${d.line}:${d.code}`),
    ["2:CDL_DUPLICATE_KEY"],
  );
});

test("S4: POST /v1/validate takes at most 256 KiB", async () => {
  const over = await local("POST", "/v1/validate", {
    body: { source: yamlWithKeys(20_000) },
  });
  assert.equal(over.status, 413);
  assert.equal(over.body.error.code, "PAYLOAD_TOO_LARGE");
  const fine = await local("POST", "/v1/validate", { body: { source: yamlWithKeys(100) } });
  assert.equal(fine.status, 200);
});

// S5 ----------------------------------------------------------------------------------

test("S5: two tenants' executions of the same id get different idempotency and step keys", async () => {
  for (const tenant of ["acme", "globex"]) {
    const started = await local("POST", startPath("Echo"), {
      body: { id: "s5-same", input: { tenant } },
      tenant,
    });
    assert.equal(started.status, 202);
    await ended("s5-same", tenant);
  }
  const acme = keys.find((k) => k.executionId === "s5-same" && k.tenant === "acme");
  const globex = keys.find((k) => k.executionId === "s5-same" && k.tenant === "globex");
  assert.ok(acme && globex);
  assert.notEqual(acme.idempotencyKey, globex.idempotencyKey);
  assert.notEqual(acme.stepKey, globex.stepKey);
});

// S6 ----------------------------------------------------------------------------------

test("S6: the local server refuses other hosts, other origins and writes that are not JSON", async () => {
  const port = new URL(server.url).port;
  const ok = await raw("GET", "/v1/apps", { host: `127.0.0.1:${port}` });
  assert.equal(ok.status, 200);
  assert.equal((await raw("GET", "/v1/apps", { host: `localhost:${port}` })).status, 200);
  for (const host of [`evil.example:${port}`, "rebind.attacker.test", ""]) {
    const got = await raw("GET", "/v1/apps", { host });
    assert.equal(got.status, 403, host);
    assert.equal(got.code, "FORBIDDEN_ORIGIN");
  }
  const crossSite = await raw(
    "POST",
    startPath("Waiter"),
    {
      host: `127.0.0.1:${port}`,
      origin: "https://evil.example",
      "content-type": "application/json",
    },
    "{}",
  );
  assert.equal(crossSite.status, 403);
  assert.equal(crossSite.code, "FORBIDDEN_ORIGIN");
  const fetchMeta = await raw("GET", "/v1/apps", {
    host: `127.0.0.1:${port}`,
    "sec-fetch-site": "cross-site",
  });
  assert.equal(fetchMeta.status, 403);
  for (const type of [
    undefined,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
  ]) {
    const got = await raw(
      "POST",
      startPath("Waiter"),
      { host: `127.0.0.1:${port}`, ...(type ? { "content-type": type } : {}) },
      "{}",
    );
    assert.equal(got.status, 415, String(type));
    assert.equal(got.code, "UNSUPPORTED_MEDIA_TYPE");
  }
  const sameSite = await raw(
    "POST",
    startPath("Waiter"),
    {
      host: `127.0.0.1:${port}`,
      origin: `http://127.0.0.1:${port}`,
      "content-type": "application/json",
      "x-cascade-tenant": "default",
    },
    "{}",
  );
  assert.equal(sameSite.status, 202);
});

test("S6: a non-loopback bind warns loudly", async () => {
  const lines: string[] = [];
  const open = await startHttpServer({
    handler: api({ local: true }),
    host: "0.0.0.0",
    port: 0,
    warn: (line) => lines.push(line),
  });
  await open.close();
  assert.match(lines.join("\n"), /WARNING[\s\S]*not a loopback address[\s\S]*NO authentication/);
  const quiet: string[] = [];
  const closed = await startHttpServer({
    handler: api({ local: true }),
    port: 0,
    warn: (line) => quiet.push(line),
  });
  await closed.close();
  assert.deepEqual(quiet, []);
});

// S7 ----------------------------------------------------------------------------------

test("S7: GET execution of a wide Map reads its join, not every branch thread", async () => {
  const items = Array.from({ length: 40 }, (_, i) => i);
  const started = await local("POST", startPath("Fan"), {
    body: { id: "s7-wide", input: { items } },
  });
  assert.equal(started.status, 202);
  let got: Awaited<ReturnType<typeof local>> | undefined;
  const until = Date.now() + 15_000;
  for (;;) {
    got = await local("GET", `${EXEC}/s7-wide`);
    if (got.body.current?.[0]?.branches?.started === 40) break;
    assert.ok(Date.now() < until, JSON.stringify(got.body.current));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const before = branchReads;
  for (let i = 0; i < 5; i++) await local("GET", `${EXEC}/s7-wide`);
  assert.equal(branchReads, before, "no GET read the branch threads");
  assert.deepEqual(got.body.current[0].branches, {
    total: 40,
    started: 40,
    succeeded: 0,
    failed: 0,
  });
  assert.equal(got.body.current[0].waiting, "join");
  assert.equal((await local("POST", `${EXEC}/s7-wide/cancel`, { body: {} })).status, 202);
});

// S8 ----------------------------------------------------------------------------------

test("S8: payload keys carry the tenant: payloads/<tenant>/<execution>/<sha256>.json", async () => {
  const input = { word: "p".repeat(10_000) };
  const started = await local("POST", startPath("Echo"), {
    body: { id: "s8-keys", input },
    tenant: "globex",
  });
  assert.equal(started.status, 202);
  await ended("s8-keys", "globex");
  const text = JSON.stringify(input);
  const digest = createHash("sha256").update(text).digest("hex");
  assert.equal(await stack.payloads.get(`payloads/globex/s8-keys/${digest}.json`), text);
  await assert.rejects(stack.payloads.get(`payloads/s8-keys/${digest}.json`));
});
