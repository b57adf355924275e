/** The local HTTP server turns requests into API Gateway HTTP API (payload v2) events and writes results back. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { startHttpServer } from "../../lib/local/http-server.ts";

test("a request becomes a payload v2 event; the structured result becomes the response", async () => {
  const events: APIGatewayProxyEventV2[] = [];
  const server = await startHttpServer({
    port: 0,
    maxBodyBytes: 1024,
    handler: async (event) => {
      events.push(event);
      if (event.rawPath === "/boom") throw new Error("handler bug");
      return {
        statusCode: 201,
        headers: { "X-Thing": "yes", "content-type": "application/json" },
        cookies: ["a=1", "b=2"],
        body: JSON.stringify({ ok: true }),
      };
    },
  });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${server.url}/v1/things/a%20b?x=1&x=2&y=z`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Cascade-Tenant": "acme",
        cookie: "s=1; t=2",
      },
      body: '{"hello":"world"}',
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-thing"), "yes");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.deepEqual(await response.json(), { ok: true });
    const event = events[0];
    assert.ok(event);
    assert.equal(event.version, "2.0");
    assert.equal(event.routeKey, "$default");
    assert.equal(event.rawPath, "/v1/things/a%20b");
    assert.equal(event.rawQueryString, "x=1&x=2&y=z");
    assert.deepEqual(event.queryStringParameters, { x: "1,2", y: "z" });
    assert.equal(event.headers["x-cascade-tenant"], "acme");
    assert.equal(event.headers["content-type"], "application/json");
    assert.deepEqual(event.cookies, ["s=1", "t=2"]);
    assert.equal(event.body, '{"hello":"world"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.http.method, "POST");
    assert.equal(event.requestContext.http.path, "/v1/things/a%20b");
    assert.equal(event.requestContext.http.sourceIp, "127.0.0.1");
    assert.match(event.requestContext.requestId, /^[0-9a-f-]{36}$/);

    const big = await fetch(`${server.url}/x`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "z".repeat(2048),
    });
    assert.equal(big.status, 413);
    const bigBody = (await big.json()) as { error: { code: string; message: string } };
    assert.equal(bigBody.error.code, "PAYLOAD_TOO_LARGE");
    assert.match(bigBody.error.message, /1024/);
    assert.equal(events.length, 1, "the handler never saw the oversized request");

    const original = process.stderr.write.bind(process.stderr);
    let logged = "";
    process.stderr.write = ((chunk: string) => {
      logged += chunk;
      return true;
    }) as typeof process.stderr.write;
    let boom: Response;
    try {
      boom = await fetch(`${server.url}/boom`);
    } finally {
      process.stderr.write = original;
    }
    assert.equal(boom.status, 500);
    assert.equal(((await boom.json()) as { error: { code: string } }).error.code, "INTERNAL");
    assert.match(logged, /handler bug/);
  } finally {
    await server.close();
  }
  await assert.rejects(fetch(`${server.url}/v1`), "closed");
});
