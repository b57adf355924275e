/**
 * `cdk synth` as a user runs it (the CDK CLI as a child process, offline, no AWS
 * credentials), then each bundled function loaded from the cloud assembly in a
 * child process against the emulators and invoked once: a file missing from a
 * bundle fails here. Prints bundle sizes and module load (cold start) times.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { type AwsClients, createAwsClients } from "../../lib/adapters/aws/clients.ts";
import { PROJECT_ROOT } from "../../lib/infra/bundle.ts";
import {
  type Emulators,
  type Provisioned,
  provision,
  startEmulators,
} from "../../lib/local/emulators.ts";
import { ENV } from "../../lib/manifest/index.ts";

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), "cascade-cdk-out-"));
const node = process.execPath;
let emulators: Emulators;
let clients: AwsClients;
let provisioned: Provisioned;

/** Function description fragment → its asset folder in the cloud assembly. */
const assets = new Map<string, string>();

before(async () => {
  emulators = await startEmulators({ ephemeral: true });
  clients = createAwsClients({ endpoints: emulators.endpoints });
  provisioned = await provision(clients, "order-processing", {
    workerRegions: ["eu-west", "us-east"],
  });
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${dirname(node)}:${join(PROJECT_ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    CDK_DISABLE_VERSION_CHECK: "1",
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
  };
  // `cdk synth` exactly as a user types it: the CLI runs cdk.json's app, offline.
  try {
    await run(
      node,
      [join(PROJECT_ROOT, "node_modules/aws-cdk/bin/cdk"), "synth", "--quiet", "--output", out],
      { cwd: PROJECT_ROOT, env, maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`cdk synth failed: ${e.stderr ?? e.message}`, { cause: error });
  }
  const template = JSON.parse(
    readFileSync(join(out, "Cascade-order-processing.template.json"), "utf8"),
  ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::Lambda::Function") continue;
    const key = (resource.Properties.Code as { S3Key?: string }).S3Key ?? "";
    const hash = key.replace(/\.zip$/, "");
    assets.set(String(resource.Properties.Description), join(out, `asset.${hash}`));
  }
});

after(async () => {
  clients?.destroy();
  await emulators?.close();
  rmSync(out, { recursive: true, force: true });
});

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(path) : statSync(path).size;
  }
  return total;
}

/** Loads the bundle's index.mjs in a fresh Node and calls its handler once with `event`. */
async function invoke(
  assetDir: string,
  event: unknown,
): Promise<{ loadMs: number; result: unknown; logs: string[] }> {
  const p = provisioned;
  const script = `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(join(assetDir, "index.mjs"))});
    const loadMs = performance.now() - t0;
    const result = await mod.handler(${JSON.stringify(event)}, { awsRequestId: "test", getRemainingTimeInMillis: () => 30000 });
    process.stdout.write(JSON.stringify({ loadMs, result }));
    process.exit(0);
  `;
  const child = run(node, ["--input-type=module", "-e", script], {
    cwd: assetDir,
    env: {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      [ENV.APP]: "order-processing",
      [ENV.APP_DIR]: join(assetDir, "app"),
      [ENV.TABLE]: p.table,
      [ENV.PAYLOAD_BUCKET]: p.bucket,
      [ENV.TRANSITION_QUEUE_URL]: p.queues.get("transitions") ?? "",
      [ENV.WORKER_QUEUE_URLS]: JSON.stringify({
        "eu-west": p.queues.get("worker:eu-west"),
        "us-east": p.queues.get("worker:us-east"),
      }),
      [ENV.DYNAMODB_ENDPOINT]: emulators.endpoints.dynamodb,
      [ENV.SQS_ENDPOINT]: emulators.endpoints.sqs,
      [ENV.S3_ENDPOINT]: emulators.endpoints.s3,
    },
  });
  const { stdout } = await child.catch((error: { stderr?: string }) => {
    // The minified bundle's source line is huge: keep the error's last lines.
    throw new Error(`the bundle failed: ${(error.stderr ?? "").slice(-2000)}`);
  });
  // The handler's own log lines come first; the script's result is the last line.
  const lines = stdout.split("\n");
  const last = JSON.parse(lines.pop() ?? "") as { loadMs: number; result: unknown };
  return { ...last, logs: lines.filter((l) => l !== "") };
}

const emptySqs = { Records: [] };

describe("cdk synth and the bundled functions", () => {
  test("cdk synth wrote a function asset with the app inside for each function", () => {
    assert.ok(assets.size >= 6, `expected 6 functions, found ${assets.size}`);
    for (const dir of assets.values()) {
      assert.ok(statSync(join(dir, "index.mjs")).isFile());
      assert.ok(statSync(join(dir, "app/cascade.yaml")).isFile());
      assert.ok(statSync(join(dir, "app/workflows/order-fulfillment.yaml")).isFile());
      assert.ok(statSync(join(dir, "app/activities/orders.mjs")).isFile());
    }
  });

  for (const [label, match, event] of [
    ["engine", "transition queue", emptySqs],
    ["worker", "worker pool us-east", emptySqs],
    ["dead-letter", "dead-lettered", { Records: [{ messageId: "m1", body: "not json" }] }],
    [
      "reconciler",
      "re-sends the work",
      {
        version: "0",
        id: "e1",
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: "000000000000",
        time: "2025-01-01T00:00:00Z",
        region: "us-east-1",
        resources: ["arn:aws:events:us-east-1:000000000000:rule/reconciler"],
        detail: {},
      },
    ],
    [
      "api",
      "HTTP API",
      {
        version: "2.0",
        routeKey: "ANY /v1/{proxy+}",
        rawPath: "/v1/apps",
        rawQueryString: "",
        headers: {},
        // The example app is behind IAM: API Gateway passes the verified caller.
        requestContext: {
          accountId: "123456789012",
          http: { method: "GET", path: "/v1/apps" },
          requestId: "r1",
          authorizer: {
            iam: {
              accountId: "123456789012",
              userArn: "arn:aws:sts::123456789012:assumed-role/order-processing-acme/cli",
            },
          },
        },
        isBase64Encoded: false,
      },
    ],
  ] as const) {
    test(`the ${label} bundle loads against the emulators and handles one event`, async (t) => {
      const dir = [...assets].find(([description]) => description.includes(match))?.[1];
      assert.ok(dir, `no asset for ${label}`);
      const { loadMs, result, logs } = await invoke(dir, event);
      const bytes = statSync(join(dir, "index.mjs")).size;
      t.diagnostic(
        `${label}: index.mjs ${(bytes / 1024).toFixed(0)} KiB, asset ${(sizeOf(dir) / 1024).toFixed(0)} KiB, module load ${loadMs.toFixed(0)} ms`,
      );
      if (label === "api") {
        assert.equal((result as { statusCode?: number }).statusCode, 200);
      } else if (label === "reconciler") {
        // Both tenants of the example's cascade.yaml listed on the emulators; nothing to repair.
        const { durationMs, ...run } = result as { durationMs: number };
        assert.ok(durationMs >= 0);
        assert.deepEqual(run, {
          tenants: ["default", "acme"],
          examined: 0,
          repaired: [],
          failed: [],
        });
        assert.equal(logs.length, 1);
        assert.match(logs[0] ?? "", /^\{"level":"info","message":"reconciled"/);
      } else {
        assert.deepEqual(result, { batchItemFailures: [] });
      }
    });
  }
});
