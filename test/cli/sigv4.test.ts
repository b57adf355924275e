/**
 * The CLI signs its requests with SigV4 for an API behind `auth: iam`: run as a process
 * with `--profile` and `--region`, against a server that checks each signature by
 * signing the request it received again with the profile's keys.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../../lib/adapters/aws/json-client.ts";
import { ApiClient } from "../../lib/cli/api-client.ts";
import { createSigner, regionOfEndpoint } from "../../lib/cli/sigv4.ts";
import { runCli } from "./cli-process.ts";

const KEYS = {
  accessKeyId: "AKIDEXAMPLEPROFILE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly valid: boolean;
}

/** Signs the received request again (same date, same signed headers) and compares. */
async function verify(request: IncomingMessage, body: string, region: string): Promise<boolean> {
  const authorization = String(request.headers.authorization ?? "");
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const date = String(request.headers["x-amz-date"] ?? "");
  if (signedNames.length === 0 || !date) return false;
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(request.headers[name] ?? "");
  const url = new URL(request.url ?? "/", `http://${request.headers.host}`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: KEYS,
    region,
    service: "execute-api",
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const signingDate = new Date(
    date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
  );
  const again = await signer.sign(
    {
      method: request.method ?? "GET",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
      ...(body === "" ? {} : { body }),
    },
    { signingDate },
  );
  return again.headers.authorization === authorization;
}

/** What the test server answers a valid request: an app list, or what `answer` returns. */
type Answer = (method: string, path: string) => unknown;

async function capture(region: string, answer?: Answer) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", async () => {
      const valid = await verify(request, body, region);
      seen.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers as Record<string, string>,
        body,
        valid,
      });
      response.writeHead(valid ? 200 : 403, { "content-type": "application/json" });
      const answered = valid ? answer?.(request.method ?? "", request.url ?? "") : undefined;
      response.end(
        answered !== undefined
          ? JSON.stringify(answered)
          : valid
            ? request.url?.startsWith("/v1/apps/shop/executions")
              ? JSON.stringify({ items: [] })
              : JSON.stringify({ apps: [{ name: "shop" }] })
            : JSON.stringify({ message: "Forbidden" }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { seen, url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

test("the region of an execute-api endpoint comes from its host", () => {
  assert.equal(
    regionOfEndpoint(new URL("https://abc123.execute-api.eu-west-1.amazonaws.com/")),
    "eu-west-1",
  );
  assert.equal(regionOfEndpoint(new URL("http://127.0.0.1:4000")), undefined);
});

test("ApiClient with a signer: every request, GET and POST with its body, carries a valid SigV4 signature", async () => {
  const api = await capture("eu-west-1");
  try {
    const sign = await createSigner({ endpoint: api.url, region: "eu-west-1", credentials: KEYS });
    const client = new ApiClient({ endpoint: api.url, sign });
    await client.request("GET", "/v1/apps?x=1");
    await client.request("POST", "/v1/apps/shop/executions/a%20b/cancel", { reason: "r" });
    assert.equal(api.seen.length, 2);
    for (const seen of api.seen) {
      assert.ok(seen.valid, `${seen.method} ${seen.path}: ${seen.headers.authorization}`);
      assert.match(
        seen.headers.authorization ?? "",
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEPROFILE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
      );
    }
    assert.equal(api.seen[1]?.body, '{"reason":"r"}');
  } finally {
    api.close();
  }
});

test("cascade process list --profile --region signs as that profile (a real process)", async () => {
  const home = mkdtempSync(join(tmpdir(), "cascade-sigv4-"));
  writeFileSync(
    join(home, "credentials"),
    `[ops]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  );
  writeFileSync(join(home, "config"), "[profile ops]\nregion = us-east-2\n");
  const api = await capture("eu-west-1");
  try {
    const env = {
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const listed = await runCli(
      [
        "process",
        "list",
        "--endpoint",
        api.url,
        "--profile",
        "ops",
        "--region",
        "eu-west-1",
        "--format",
        "json",
      ],
      { env },
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(api.seen.length >= 1);
    assert.ok(
      api.seen.every((s) => s.valid),
      JSON.stringify(api.seen.map((s) => s.headers.authorization)),
    );

    // Without --region the profile's region is used; the server expects eu-west-1, so it refuses.
    const wrongRegion = await runCli(
      ["process", "list", "--endpoint", api.url, "--profile", "ops", "--app", "shop"],
      { env },
    );
    assert.notEqual(wrongRegion.code, 0);
    assert.match(api.seen.at(-1)?.headers.authorization ?? "", /\/us-east-2\/execute-api\//);

    // Unsigned, the request carries no Authorization at all.
    const unsigned = await runCli(["process", "list", "--endpoint", api.url, "--app", "shop"], {
      env,
    });
    assert.notEqual(unsigned.code, 0);
    assert.equal(api.seen.at(-1)?.headers.authorization, undefined);
  } finally {
    api.close();
  }
});

test("cascade process list --token (or $CASCADE_TOKEN) sends the token as a bearer, unsigned (a real process)", async () => {
  const seen: Record<string, string | undefined>[] = [];
  const server = createServer((request, response) => {
    seen.push({
      authorization: request.headers.authorization,
      date: request.headers["x-amz-date"] as string | undefined,
    });
    request.resume();
    const ok = request.headers.authorization === "Bearer tok-123";
    response.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
    response.end(ok ? JSON.stringify({ items: [] }) : JSON.stringify({ message: "Unauthorized" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const args = ["process", "list", "--endpoint", url, "--app", "shop", "--format", "json"];
    const flag = await runCli([...args, "--token", "tok-123"]);
    assert.equal(flag.code, 0, flag.stderr);
    const fromEnv = await runCli(args, { env: { CASCADE_TOKEN: "tok-123" } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.ok(seen.length >= 2);
    assert.ok(seen.every((s) => s.authorization === "Bearer tok-123" && s.date === undefined));
  } finally {
    server.close();
  }
});

test("cascade metrics and cascade load sign with --profile and --region too (real processes)", async () => {
  const home = mkdtempSync(join(tmpdir(), "cascade-sigv4-"));
  writeFileSync(
    join(home, "credentials"),
    `[ops]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  );
  const api = await capture("eu-west-1", (method, path) => {
    if (path.startsWith("/v1/apps/shop/metrics/activities/work"))
      return {
        name: "work",
        executions: 4,
        errors: 0,
        avgDurationMs: 12,
        percentiles: { p50: 8, p95: 45, p99: 200 },
      };
    // The wait is a long poll of GET execution, never the start again.
    if (method === "GET" && /^\/v1\/apps\/shop\/executions\/[^/?]+\?wait=/.test(path))
      return { id: "x", status: "succeeded", durationMs: 7 };
    if (method === "POST" && path.startsWith("/v1/apps/shop/workflows/W/executions"))
      return { id: "x", status: "running" };
    return undefined;
  });
  try {
    const env = {
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const signed = ["--endpoint", api.url, "--profile", "ops", "--region", "eu-west-1"];
    const metrics = await runCli(
      ["metrics", "activity", "work", ...signed, "--app", "shop", "--format", "json"],
      { env },
    );
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.equal(
      metrics.stdout,
      '{"name":"work","executions":4,"avg_duration":"12ms","p50":"8ms","p95":"45ms","p99":"200ms","error_rate":"0.00%"}\n',
    );
    const load = await runCli(
      ["load", "--workflow", "W", "--count", "2", ...signed, "--format", "json"],
      { env },
    );
    assert.equal(load.code, 0, load.stderr);
    assert.equal((JSON.parse(load.stdout) as { succeeded: number }).succeeded, 2);
    // The app listing, the metrics and each start and wait: every one signed as the profile.
    assert.equal(api.seen.length, 1 + 1 + 2 * 2);
    assert.ok(
      api.seen.every((s) => s.valid),
      JSON.stringify(api.seen.map((s) => [s.method, s.path, s.headers.authorization])),
    );
  } finally {
    api.close();
  }
});
