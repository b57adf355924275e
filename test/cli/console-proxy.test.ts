/**
 * `cascade console` as a user runs it against a deployed app behind `auth: iam`: a real
 * process with `--profile`, in front of a stand-in for the deployed API — the real API
 * handler on the embedded stack, behind a server that refuses any request whose SigV4
 * signature it cannot recompute with the profile's keys. The page is served locally,
 * its /v1 calls arrive signed; other sites' pages cannot use it; the console works in
 * Chromium through it (drawing the workflow version an execution ran on); a token is
 * forwarded for `auth: jwt`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SignatureV4 } from "@smithy/signature-v4";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { NodeSha256 } from "../../lib/adapters/aws/json-client.ts";
import { createApiHandler } from "../../lib/api/index.ts";
import { consoleProxy } from "../../lib/cli/console-proxy.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import { launchBrowser } from "../console/browser.ts";
import { repoPath } from "../helpers.ts";
import { CASCADE, NODE } from "./cli-process.ts";

const KEYS = {
  accessKeyId: "AKIDEXAMPLECONSOLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const REGION = "eu-west-1";
const HELLO = `name: Hello
states:
  - { name: Greet, type: Pass, result: $.greeting, end: true }
`;

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly valid: boolean;
  readonly headers: Record<string, string>;
}

/** Signs the received request again with the profile's keys (same date and headers) and compares. */
async function validSignature(event: APIGatewayProxyEventV2): Promise<boolean> {
  const headers = event.headers ?? {};
  const authorization = String(headers.authorization ?? "");
  const names = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const date = String(headers["x-amz-date"] ?? "");
  if (names.length === 0 || !date) return false;
  const signed: Record<string, string> = {};
  for (const name of names) signed[name] = String(headers[name] ?? "");
  const url = new URL(
    `${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`,
    `http://${headers.host}`,
  );
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const again = await new SignatureV4({
    credentials: KEYS,
    region: REGION,
    service: "execute-api",
    sha256: NodeSha256,
    uriEscapePath: true,
  }).sign(
    {
      method: event.requestContext.http.method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: signed,
      ...(event.body ? { body: event.body } : {}),
    },
    {
      signingDate: new Date(
        date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
      ),
    },
  );
  return again.headers.authorization === authorization;
}

let stack: LocalStack;
let deployed: HttpServer;
const seen: Seen[] = [];
let child: ChildProcess | undefined;
let consoleUrl = "";
let output = "";

before(async () => {
  stack = await startLocalStack({
    app: "greeter",
    workflows: [{ file: "hello.yaml", source: HELLO }],
    activities: new Map(),
    ephemeral: true,
    runtime: { log: () => {} },
  });
  const api = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "greeter",
    local: true,
  });
  deployed = await startHttpServer({
    handler: async (event) => {
      const valid = await validSignature(event);
      seen.push({
        method: event.requestContext.http.method,
        path: event.rawPath,
        valid,
        headers: event.headers as Record<string, string>,
      });
      return valid
        ? api(event)
        : { statusCode: 403, body: JSON.stringify({ message: "Forbidden" }) };
    },
  });

  const home = mkdtempSync(join(tmpdir(), "cascade-console-"));
  writeFileSync(join(home, "config"), `[profile ops]\nregion = ${REGION}\n`);
  writeFileSync(
    join(home, "credentials"),
    `[ops]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_CONFIG_FILE: join(home, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
  };
  for (const name of [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
  ])
    delete env[name];
  child = spawn(
    NODE,
    [CASCADE, "console", "--endpoint", deployed.url, "--profile", "ops", "--port", "0"],
    { cwd: repoPath(), env },
  );
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  consoleUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no console line: ${output}`)), 60_000);
    child?.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^console\s+(http:\/\/\S+?)\/?$/m.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child?.on("exit", (code) => reject(new Error(`cascade console exited ${code}: ${output}`)));
  });
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
  await deployed?.close();
  await stack?.stop();
});

test("cascade console says where it serves and how it calls the API", () => {
  assert.match(output, /^console\s+http:\/\/127\.0\.0\.1:\d+\/$/m);
  assert.match(output, /calls signed with SigV4 as profile ops/);
});

test("the page is served locally; its /v1 calls reach the deployed API signed, and nothing of the page's", async () => {
  const page = await fetch(`${consoleUrl}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script type="module" src="\/console\/app.js">/);
  assert.equal(seen.length, 0, "the page itself comes from this machine");

  const apps = await fetch(`${consoleUrl}/v1/apps`, { headers: { cookie: "session=x" } });
  assert.equal(apps.status, 200);
  assert.deepEqual(
    ((await apps.json()) as { apps: { name: string }[] }).apps.map((a) => a.name),
    ["greeter"],
  );
  const started = await fetch(`${consoleUrl}/v1/apps/greeter/workflows/Hello/executions?wait=10`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-cascade-tenant": "someone-else" },
    body: JSON.stringify({ input: {}, id: "via-console" }),
  });
  assert.equal(started.status, 200, await started.clone().text());
  const body = (await started.json()) as { id: string; status: string; tenant?: string };
  assert.equal(body.id, "via-console");
  assert.equal(body.status, "succeeded");
  assert.ok(seen.length >= 2);
  for (const call of seen) {
    assert.ok(call.valid, `${call.method} ${call.path} carries a valid SigV4 signature`);
    assert.equal(call.headers.cookie, undefined);
    assert.equal(call.headers.origin, undefined);
    assert.equal(call.headers["x-cascade-tenant"], undefined, "the tenant is the identity's");
  }
});

test("other sites' pages cannot use the proxy's credentials", async () => {
  const before = seen.length;
  const cross = await fetch(`${consoleUrl}/v1/apps/greeter/workflows/Hello/executions`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: "https://evil.example" },
    body: JSON.stringify({ input: {} }),
  });
  assert.equal(cross.status, 403);
  assert.equal(
    ((await cross.json()) as { error: { code: string } }).error.code,
    "FORBIDDEN_ORIGIN",
  );
  const form = await fetch(`${consoleUrl}/v1/apps/greeter/workflows/Hello/executions`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "{}",
  });
  assert.equal(form.status, 415);
  const other = await fetch(`${consoleUrl}/elsewhere`);
  assert.equal(other.status, 404);
  assert.equal(seen.length, before, "nothing was forwarded");
});

test("the console works in Chromium through the proxy, drawing the version an execution ran on", async () => {
  // A newer version of the workflow since: the execution's page still draws its own.
  stack.definitions.register(HELLO.replace("Greet", "Welcome"), "hello.yaml");
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${consoleUrl}/#/executions/via-console`);
    await page.waitForSelector("[data-testid=execution][data-status=succeeded]", {
      timeout: 20_000,
    });
    await page.waitForSelector("[data-testid=node][data-node=Greet][data-status=succeeded]", {
      timeout: 20_000,
    });
    await page.waitForSelector("[data-testid=older-version]", { timeout: 20_000 });
    assert.equal(await page.$("[data-testid=node][data-node=Welcome]"), null);
  } finally {
    await browser.close();
  }
  assert.ok(seen.every((call) => call.valid));
});

test("with a token (auth: jwt) each call carries it; an API that is down is a 502", async () => {
  const calls: Record<string, string>[] = [];
  const jwtApi = await startHttpServer({
    handler: async (event) => {
      calls.push(event.headers as Record<string, string>);
      return { statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" };
    },
  });
  const assets = new Map([["/", { contentType: "text/html", body: "<p>console</p>" }]]);
  const proxy = await startHttpServer({
    handler: consoleProxy({ endpoint: jwtApi.url, assets, token: "tok-123" }),
  });
  try {
    assert.equal((await fetch(`${proxy.url}/v1/apps`)).status, 200);
    assert.equal(calls[0]?.authorization, "Bearer tok-123");
    await jwtApi.close();
    const down = await fetch(`${proxy.url}/v1/apps`);
    assert.equal(down.status, 502);
    assert.equal(
      ((await down.json()) as { error: { code: string } }).error.code,
      "API_UNREACHABLE",
    );
  } finally {
    await proxy.close();
  }
});
