/** The console's files beside the API (lib/api/console.ts): served for GET, everything else goes to the API. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { CONSOLE_CSP, readConsoleDir, withConsole } from "../../lib/api/console.ts";
import type { ApiHandler } from "../../lib/api/index.ts";

const event = (method: string, path: string) =>
  ({
    rawPath: path,
    requestContext: { http: { method, path } },
  }) as unknown as APIGatewayProxyEventV2;

const api = Object.assign(
  async (e: APIGatewayProxyEventV2) => ({ statusCode: 299, body: `api ${e.rawPath}` }),
  { routes: [] },
) as ApiHandler;

function built(): string {
  const dir = mkdtempSync(join(tmpdir(), "cascade-console-"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>c</title>");
  writeFileSync(join(dir, "app.js"), "console.log(1)");
  writeFileSync(join(dir, "app.css"), "body{}");
  return dir;
}

test("the page and its files are served with a CSP that loads nothing from elsewhere", async () => {
  const assets = readConsoleDir(built());
  assert.ok(assets);
  const handler = withConsole(api, assets);
  const page = await handler(event("GET", "/"));
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers?.["content-type"]), /text\/html/);
  assert.equal(page.headers?.["content-security-policy"], CONSOLE_CSP);
  assert.doesNotMatch(CONSOLE_CSP, /https?:|\*/);
  const js = await handler(event("GET", "/console/app.js"));
  assert.equal(js.body, "console.log(1)");
  assert.match(String(js.headers?.["content-type"]), /javascript/);
  assert.equal((await handler(event("HEAD", "/console/app.css"))).body, "");
});

test("every other request is the API's: /v1, writes, unknown files", async () => {
  const assets = readConsoleDir(built());
  assert.ok(assets);
  const handler = withConsole(api, assets);
  assert.equal((await handler(event("GET", "/v1/apps"))).statusCode, 299);
  assert.equal((await handler(event("POST", "/"))).statusCode, 299);
  assert.equal((await handler(event("GET", "/console/../secret"))).statusCode, 299);
  assert.equal((await handler(event("GET", "/console/nope.js"))).statusCode, 299);
});

test("a console given on demand is asked once it is needed; one that fails is none", async () => {
  const assets = readConsoleDir(built());
  assert.ok(assets);
  let asked = 0;
  const lazy = withConsole(api, async () => {
    asked++;
    return assets;
  });
  assert.equal(asked, 0);
  assert.equal((await lazy(event("GET", "/"))).statusCode, 200);
  assert.equal(asked, 1);
  const broken = withConsole(api, () => Promise.reject(new Error("does not build")));
  assert.equal((await broken(event("GET", "/"))).statusCode, 299, "the API answers");
});

test("a folder without the built console gives none", () => {
  assert.equal(readConsoleDir(mkdtempSync(join(tmpdir(), "cascade-empty-"))), undefined);
});
