/**
 * Invariant 9 as a property of the deployed handler (`local` false): whatever the
 * request, what the verified identity says decides the tenant and the
 * `X-Cascade-Tenant` header decides nothing. fast-check builds API Gateway payload v2
 * events — random routes, JWT claims (well-formed, missing, odd: `__proto__`, numbers,
 * 10 KB strings), IAM principals (mapped, unmapped, other accounts, malformed ARNs) and
 * header tenants — and the handler over the embedded stack must answer the same with
 * the header as without it, never a 5xx, and only a coded error.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import fc from "fast-check";
import { API_ERRORS, type ApiHandler, createApiHandler } from "../../lib/api/index.ts";
import { type AppConfig, readAppConfig } from "../../lib/app/config.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const ACCOUNT = "123456789012";
const TENANTS = ["default", "acme", "globex"];

let stack: LocalStack;
let jwt: ApiHandler;
let iam: ApiHandler;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-tenancy-prop-"));
  writeFileSync(join(dir, "cascade.yaml"), `name: shop\ntenants: [${TENANTS.join(", ")}]\n`);
  const base = await readAppConfig(dir);
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
  // One execution in each tenant, for the reads to find (or not).
  for (const tenant of TENANTS)
    await stack.runtime.startExecution("Waiter", {}, { tenant, id: `in-${tenant}` });
  const handler = (config: AppConfig) =>
    createApiHandler({
      runtime: stack.runtime,
      store: stack.store,
      payloads: stack.payloads,
      definitions: stack.definitions,
      app: "shop",
      config,
      log: () => {},
    });
  jwt = handler({
    ...base,
    auth: { type: "jwt", issuer: "https://i.example", audience: ["api"], tenantClaim: "org" },
  });
  iam = handler({
    ...base,
    auth: {
      type: "iam",
      tenantClaim: "tenant",
      principals: [
        { principal: "role/shop-acme", tenant: "acme" },
        { principal: `arn:aws:iam::${ACCOUNT}:user/ops/globex-bot`, tenant: "globex" },
      ],
    },
  });
});

after(async () => {
  await stack?.stop();
});

const odd = fc.oneof(
  fc.constantFrom(
    ...TENANTS,
    "__proto__",
    "constructor",
    "",
    "..",
    "ACME",
    "acme ",
    "x".repeat(65),
  ),
  fc.string({ maxLength: 30 }),
  fc.nat({ max: 10_000 }).map((n) => "t".repeat(n)),
);

const claims = fc.oneof(
  fc.constant(undefined),
  fc.record({ org: odd }, { requiredKeys: [] }),
  fc.dictionary(fc.constantFrom("org", "tenant", "sub", "__proto__", "toString"), odd, {
    maxKeys: 4,
  }),
  fc.record({ org: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)) }),
);

const userArn = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    `arn:aws:sts::${ACCOUNT}:assumed-role/shop-acme/s`,
    `arn:aws:iam::${ACCOUNT}:user/ops/globex-bot`,
    `arn:aws:iam::${ACCOUNT}:user/globex-bot`,
    "arn:aws:sts::999999999999:assumed-role/shop-acme/s",
    `arn:aws:sts::${ACCOUNT}:assumed-role/shop-globex/s`,
    `arn:aws:iam::${ACCOUNT}:role/shop-acme/../../x`,
    "arn:aws:iam::x:role/shop-acme",
    "",
  ),
  fc.string({ maxLength: 80 }),
);

const path = fc.oneof(
  fc.constantFrom(
    "/v1/apps",
    "/v1/apps/shop",
    "/v1/apps/shop/workflows",
    "/v1/apps/shop/executions",
    ...TENANTS.map((t) => `/v1/apps/shop/executions/in-${t}`),
    ...TENANTS.map((t) => `/v1/apps/shop/executions/in-${t}/history`),
  ),
  fc.string({ maxLength: 40 }).map((s) => `/v1/apps/shop/executions/${encodeURIComponent(s)}`),
);

function event(
  p: string,
  options: { claims?: Record<string, unknown>; userArn?: string; header?: string },
): APIGatewayProxyEventV2 {
  const authorizer =
    options.claims !== undefined
      ? { jwt: { claims: options.claims, scopes: [] } }
      : options.userArn !== undefined
        ? { iam: { userArn: options.userArn, accountId: ACCOUNT } }
        : undefined;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: p,
    rawQueryString: "",
    headers: {
      host: "abc.execute-api.eu-west-1.amazonaws.com",
      ...(options.header === undefined ? {} : { "x-cascade-tenant": options.header }),
    },
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: "abc",
      domainName: "abc.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc",
      http: {
        method: "GET",
        path: p,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.9",
        userAgent: "",
      },
      requestId: "r",
      routeKey: "$default",
      stage: "$default",
      time: "",
      timeEpoch: 0,
      ...(authorizer ? { authorizer } : {}),
    },
  } as unknown as APIGatewayProxyEventV2;
}

const CODES = new Set(Object.keys(API_ERRORS));

/** The answer without what differs per request by design. */
const comparable = (result: { statusCode?: number | undefined; body?: string | undefined }) => ({
  status: result.statusCode,
  body: JSON.parse(String(result.body)) as unknown,
});

test(`JWT: the claim names the tenant, the header never does (${RUNS} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(path, claims, odd, async (p, c, header) => {
      const plain = await jwt(event(p, c === undefined ? {} : { claims: c }));
      const withHeader = await jwt(event(p, { ...(c === undefined ? {} : { claims: c }), header }));
      assert.ok((plain.statusCode ?? 500) < 500, String(plain.body));
      assert.deepEqual(comparable(withHeader), comparable(plain));
      const body = comparable(plain).body as { error?: { code?: string }; tenant?: string };
      if ((plain.statusCode ?? 0) >= 400) assert.ok(CODES.has(String(body.error?.code)));
      // A read that found an execution found the claim's tenant's.
      if (plain.statusCode === 200 && body.tenant !== undefined) assert.equal(body.tenant, c?.org);
    }),
    { numRuns: RUNS },
  );
});

test(`IAM: the verified principal names the tenant, the header never does (${RUNS} runs)`, async () => {
  const mapped: Record<string, string> = {
    [`arn:aws:sts::${ACCOUNT}:assumed-role/shop-acme/s`]: "acme",
    [`arn:aws:iam::${ACCOUNT}:user/ops/globex-bot`]: "globex",
    [`arn:aws:iam::${ACCOUNT}:user/globex-bot`]: "globex",
  };
  await fc.assert(
    fc.asyncProperty(path, userArn, odd, async (p, arn, header) => {
      const plain = await iam(event(p, arn === undefined ? {} : { userArn: arn }));
      const withHeader = await iam(
        event(p, { ...(arn === undefined ? {} : { userArn: arn }), header }),
      );
      assert.ok((plain.statusCode ?? 500) < 500, String(plain.body));
      assert.deepEqual(comparable(withHeader), comparable(plain));
      const body = comparable(plain).body as { error?: { code?: string }; tenant?: string };
      if ((plain.statusCode ?? 0) >= 400) assert.ok(CODES.has(String(body.error?.code)));
      if ((plain.statusCode ?? 0) < 400) assert.ok(arn !== undefined && arn in mapped, String(arn));
      if (plain.statusCode === 200 && body.tenant !== undefined)
        assert.equal(body.tenant, mapped[String(arn)]);
    }),
    { numRuns: RUNS },
  );
});
