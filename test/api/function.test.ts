/**
 * The `api` Lambda entry point invoked as Lambda would: its module builds the
 * runtime, store and definitions from the environment at import (pointing at the
 * emulators), and API Gateway HTTP API (payload v2) events go through the
 * exported inner handler.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { ENV } from "../../lib/manifest/index.ts";
import { useEmulators } from "../support/emulators.ts";

const env = useEmulators("fnapi");

function request(
  method: string,
  path: string,
  options: { body?: unknown; query?: string; claims?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: options.query ?? "",
    headers: {
      "content-type": "application/json",
      host: "abc.execute-api.eu-west-1.amazonaws.com",
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc",
      domainName: "abc.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "test" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "23/Nov/2026:00:00:00 +0000",
      timeEpoch: 0,
      ...(options.claims ? { authorizer: { jwt: { claims: options.claims, scopes: [] } } } : {}),
    },
  } as APIGatewayProxyEventV2;
}

test("the api function serves the API from its environment, tenant from the JWT claim", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-fnapi-"));
  mkdirSync(join(dir, "workflows"));
  writeFileSync(
    join(dir, "cascade.yaml"),
    "name: fnapi\ntenants: [acme, globex]\nauth: { type: jwt, issuer: https://issuer.example, audience: [api] }\n",
  );
  writeFileSync(
    join(dir, "workflows", "waiter.yaml"),
    "name: Waiter\nstates:\n  - { name: AwaitGo, type: WaitForEvent, event: go, result: $.go, end: true }\n",
  );
  const { clients, provisioned } = env;
  const endpoint = await clients.dynamodb.config.endpoint?.();
  const sqsEndpoint = await clients.sqs.config.endpoint?.();
  const url = (e: { protocol: string; hostname: string; port?: number } | undefined) =>
    `${e?.protocol}//${e?.hostname}:${e?.port}`;
  Object.assign(process.env, {
    [ENV.APP]: "fnapi",
    [ENV.APP_DIR]: dir,
    [ENV.TABLE]: provisioned.table,
    [ENV.PAYLOAD_BUCKET]: provisioned.bucket,
    [ENV.TRANSITION_QUEUE_URL]: provisioned.queues.get("transitions"),
    [ENV.DYNAMODB_ENDPOINT]: url(endpoint),
    [ENV.SQS_ENDPOINT]: url(sqsEndpoint),
    [ENV.S3_ENDPOINT]: url(sqsEndpoint),
  });
  const { handleRequest, handler } = await import("../../functions/api.ts");
  assert.equal(typeof handler, "function", "the middy handler is exported");
  const acme = { tenant: "acme" };
  const path = "/v1/apps/fnapi/workflows/Waiter/executions";

  const started = await handleRequest(
    request("POST", path, { body: { id: "fn-1" }, claims: acme }),
  );
  assert.equal(started.statusCode, 202, started.body);
  assert.equal(started.headers?.location, "/v1/apps/fnapi/executions/fn-1");

  const got = await handleRequest(
    request("GET", "/v1/apps/fnapi/executions/fn-1", { claims: acme }),
  );
  assert.equal(got.statusCode, 200);
  const body = JSON.parse(got.body ?? "{}");
  assert.equal(body.status, "running");
  assert.equal(body.tenant, "acme");
  assert.equal(body.current[0].waiting, "event:go");

  const hidden = await handleRequest(
    request("GET", "/v1/apps/fnapi/executions/fn-1", { claims: { tenant: "globex" } }),
  );
  assert.equal(hidden.statusCode, 404, "another tenant does not see it");
  const stranger = await handleRequest(
    request("GET", "/v1/apps/fnapi/executions", { claims: { tenant: "initech" } }),
  );
  assert.equal(stranger.statusCode, 403);
  const anonymous = await handleRequest(request("GET", "/v1/apps/fnapi/executions"));
  assert.equal(anonymous.statusCode, 403, "JWT auth: no claims, no tenant");
  assert.equal(JSON.parse(anonymous.body ?? "{}").error.code, "TENANT_MISSING");

  const sent = await handleRequest(
    request("POST", "/v1/apps/fnapi/executions/fn-1/events", {
      body: { event: "go", payload: 42 },
      claims: acme,
    }),
  );
  assert.equal(sent.statusCode, 202, sent.body);
  const done = JSON.parse(
    (await handleRequest(request("GET", "/v1/apps/fnapi/executions/fn-1", { claims: acme })))
      .body ?? "{}",
  );
  assert.equal(done.status, "succeeded", "the event was applied within the call");
  assert.deepEqual(done.output, { go: 42 });

  const listed = JSON.parse(
    (
      await handleRequest(
        request("GET", "/v1/apps/fnapi/executions", { query: "workflow=Waiter", claims: acme }),
      )
    ).body ?? "{}",
  );
  assert.deepEqual(
    listed.items.map((x: { id: string }) => x.id),
    ["fn-1"],
  );
});
