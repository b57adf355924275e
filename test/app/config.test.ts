/** `cascade.yaml`: defaults, every key, and every problem reported at once with its place. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  AppConfigError,
  CONFIG_DEFAULTS,
  defaultAppName,
  loadAppConfig,
  parseAppConfig,
  parseMemoryMb,
  readAppConfig,
} from "../../lib/app/config.ts";
import { APP_CONFIG_SCHEMA } from "../../lib/app/config-schema.ts";
import { repoPath } from "../helpers.ts";

const DIR = "/apps/shop";

test("an app without cascade.yaml gets every default, named after its folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "My Shop-"));
  const { config, diagnostics } = await loadAppConfig(dir);
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.match(config.name, /^my-shop-/);
  assert.equal(config.workflows, join(dir, "workflows"));
  assert.equal(config.activities, join(dir, "activities"));
  assert.equal(config.retentionDays, CONFIG_DEFAULTS.retentionDays);
  assert.deepEqual(config.tenants, { isolation: "pooled", names: ["default"] });
  assert.deepEqual(config.deployments, CONFIG_DEFAULTS.deployments);
  assert.deepEqual(config.auth, { type: "none", tenantClaim: "tenant" });
  assert.deepEqual(config.triggers, []);
  assert.deepEqual(config.reconciler, CONFIG_DEFAULTS.reconciler);
});

test("the example app's cascade.yaml is valid and says what it means", async () => {
  const dir = repoPath("examples", "order-processing");
  const config = await readAppConfig(dir, {
    workflows: new Set(["OrderFulfillment", "EarlyValidation"]),
  });
  assert.equal(config.name, "order-processing");
  assert.deepEqual(config.triggers[1], {
    method: "POST",
    path: "/orders/validate",
    workflow: "EarlyValidation",
    mode: "sync",
    timeoutSeconds: 20,
  });
  assert.deepEqual(config.deployments.engine, { memoryMb: 1024, timeoutSeconds: 60 });
  assert.deepEqual(config.deployments.api, { memoryMb: 512, timeoutSeconds: 30 });
  assert.deepEqual(config.autoscaling.engine, { min: 0, max: 50 });
  assert.deepEqual(config.tenants.names, ["default", "acme"]);
});

test("every key is read: durations, sizes, tenants as a list, auth", () => {
  const { config, diagnostics } = parseAppConfig(
    "cascade.yaml",
    `name: shop
retention: 36h
payloads: { offload_threshold: 65536 }
auth: { type: jwt, issuer: "https://id.example.com/", audience: [shop-api], tenant_claim: "custom:tenant" }
tenants: [acme, globex]
database: { max_connections: 8, idle_timeout: 2m, max_lifetime: 1h, validation_interval: 10s }
deployments: { workers: { memory: 2048, timeout: 10m } }
autoscaling: { workers: { min: 2, max: 40 } }
messaging: { batch_size: 5, batching_window: 2s, max_receive_count: 3, visibility_timeout: 1h }
cache: { enabled: true, ttl: 90s }
reconciler: { every: 1h30m, reserved_concurrency: 1 }
platform: { region: eu-west-1, architecture: x86_64 }
`,
    DIR,
  );
  // Keys accepted without an effect on AWS say so (test/app/operations-config.test.ts has them all).
  assert.deepEqual(
    diagnostics.map((d) => [d.severity, d.code, d.path]),
    [
      ["warning", "CONFIG_NOT_ON_LAMBDA", "database.idle_timeout"],
      ["warning", "CONFIG_NOT_ON_LAMBDA", "database.max_lifetime"],
      ["warning", "CONFIG_NOT_ON_LAMBDA", "database.validation_interval"],
    ],
  );
  assert.ok(config);
  assert.equal(config.retentionDays, 2);
  assert.equal(config.offloadThresholdBytes, 65_536);
  assert.deepEqual(config.auth, {
    type: "jwt",
    issuer: "https://id.example.com/",
    audience: ["shop-api"],
    tenantClaim: "custom:tenant",
  });
  assert.deepEqual(config.tenants, { isolation: "pooled", names: ["acme", "globex"] });
  assert.deepEqual(config.database, {
    maxConnections: 8,
    idleTimeoutMs: 120_000,
    maxLifetimeMs: 3_600_000,
    validationIntervalMs: 10_000,
  });
  assert.deepEqual(config.deployments.workers, { memoryMb: 2048, timeoutSeconds: 600 });
  assert.deepEqual(config.autoscaling.workers, { min: 2, max: 40 });
  assert.deepEqual(config.messaging, {
    batchSize: 5,
    batchingWindowSeconds: 2,
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 3600,
  });
  assert.deepEqual(config.cache, { enabled: true, ttlSeconds: 90 });
  assert.deepEqual(config.reconciler, { everyMinutes: 90, reservedConcurrency: 1 });
  assert.deepEqual(config.platform, { region: "eu-west-1", architecture: "x86_64" });
});

test("sizes: megabytes, Mi, Gi, MB", () => {
  assert.equal(parseMemoryMb(512), 512);
  assert.equal(parseMemoryMb("512Mi"), 512);
  assert.equal(parseMemoryMb("1Gi"), 1024);
  assert.equal(parseMemoryMb("1.5GB"), 1536);
  assert.equal(parseMemoryMb("2048MB"), 2048);
});

test("folder names become app names", () => {
  assert.equal(defaultAppName("/x/Order Processing"), "order-processing");
  assert.equal(defaultAppName("/x/42"), "app");
});

/**
 * Each line that should be reported ends with its codes: `#S` for the structural
 * pass (schema), `#X` for the cross-field pass that runs once the shape is right.
 */
const BROKEN = `name: Shop_App                       #S CONFIG_INVALID_VALUE
retension: 30d                       #S CONFIG_UNKNOWN_KEY
triggers:
  - path: /orders
    workflow: OrderFulfilment            #X CONFIG_UNKNOWN_WORKFLOW
  - path: /orders                        #X CONFIG_DUPLICATE_ROUTE
    workflow: OrderFulfillment
  - path: /v1/orders                     #X CONFIG_RESERVED_ROUTE
    workflow: OrderFulfillment
    mode: sync
    timeout: 40s                         #X CONFIG_LIMIT
tenants: { isolation: silo, names: [acme, acme] }   #X CONFIG_DUPLICATE_TENANT
deployments:
  engine: { memory: 64, timeout: 20m }  #S CONFIG_INVALID_VALUE #X CONFIG_LIMIT
autoscaling:
  engine: { min: 10, max: 5 }          #X CONFIG_INVALID_VALUE
messaging: { batch_size: 11, batching_window: 10m, visibility_timeout: 10s }  #S CONFIG_INVALID_VALUE #X CONFIG_LIMIT CONFIG_INVALID_VALUE
cache: { enabled: "yes" }              #S CONFIG_TYPE
reconciler: { every: 90s, reserved_concurrency: 2 }  #S CONFIG_INVALID_VALUE #X CONFIG_INVALID_VALUE
platform: { architecture: arm }        #S CONFIG_INVALID_VALUE
`;

const expectedCodes = (pass: "S" | "X"): string[] =>
  BROKEN.split("\n").flatMap((line, index) =>
    [...line.matchAll(/#([SX])((?:\s+CONFIG_[A-Z_]+)+)/g)]
      .filter((m) => m[1] === pass)
      .flatMap((m) => (m[2] ?? "").trim().split(/\s+/))
      .map((code) => `${index + 1}:${code}`),
  );

test("a broken cascade.yaml: every problem at once, each on its line", () => {
  const text = BROKEN.split("\n")
    .map((line) => line.replace(/#[SX].*$/, ""))
    .join("\n");
  const workflows = new Set(["OrderFulfillment"]);
  const first = parseAppConfig("cascade.yaml", text, DIR, { workflows });
  assert.equal(first.config, undefined);
  assert.deepEqual(
    first.diagnostics.map((d) => `${d.line}:${d.code}`),
    expectedCodes("S"),
  );
  const unknown = first.diagnostics.find((d) => d.code === "CONFIG_UNKNOWN_KEY");
  assert.equal(unknown?.suggestion, "retention");
  assert.equal(unknown?.column, 1);
  assert.match(first.diagnostics.at(-1)?.message ?? "", /not one of arm64, x86_64/);

  // With the shape fixed, every cross-field problem comes out at once.
  const fixed = text
    .replace("name: Shop_App", "name: shop")
    .replace("retension", "retention")
    .replace("memory: 64", "memory: 256")
    .replace("batch_size: 11", "batch_size: 10")
    .replace('enabled: "yes"', "enabled: true")
    .replace("architecture: arm ", "architecture: arm64 ")
    .replace("reserved_concurrency: 2", "reserved_concurrency: 1");
  const second = parseAppConfig("cascade.yaml", fixed, DIR, { workflows });
  assert.equal(second.config, undefined);
  assert.deepEqual(
    second.diagnostics.map((d) => `${d.line}:${d.code}`).sort(),
    expectedCodes("X").sort(),
  );
  const unknownWorkflow = second.diagnostics.find((d) => d.code === "CONFIG_UNKNOWN_WORKFLOW");
  assert.match(unknownWorkflow?.message ?? "", /OrderFulfilment.*OrderFulfillment/);
});

test("reconciler.every: an EventBridge rate, in whole minutes from 1m to 1d", () => {
  const check = (every: string) =>
    parseAppConfig("cascade.yaml", `reconciler: { every: ${every} }\n`, DIR).diagnostics.map(
      (d) => `${d.code} ${d.message}`,
    );
  assert.deepEqual(check("1m"), []);
  assert.deepEqual(check("1d"), []);
  assert.deepEqual(check("30s"), [
    "CONFIG_LIMIT EventBridge runs a schedule at most once a minute: use 1m or more",
  ]);
  assert.deepEqual(check("2m30s"), [
    "CONFIG_INVALID_VALUE an EventBridge rate is in whole minutes: use 3m",
  ]);
  assert.match(
    check("30d")[0] ?? "",
    /^CONFIG_INVALID_VALUE the reconciler runs at least once a day/,
  );
  assert.match(check("often")[0] ?? "", /^CONFIG_DURATION/);
});

test("YAML syntax errors and non-mappings are reported, never thrown", () => {
  const syntax = parseAppConfig("cascade.yaml", "name: [unclosed\n", DIR);
  assert.equal(syntax.config, undefined);
  assert.equal(syntax.diagnostics[0]?.code, "CONFIG_YAML_SYNTAX");
  const list = parseAppConfig("cascade.yaml", "- a\n- b\n", DIR);
  assert.equal(list.diagnostics[0]?.code, "CONFIG_TYPE");
  const dup = parseAppConfig("cascade.yaml", "name: a\nname: b\n", DIR);
  assert.equal(dup.diagnostics[0]?.code, "CONFIG_DUPLICATE_KEY");
  const huge = parseAppConfig("cascade.yaml", `# ${"x".repeat(200_001)}`, DIR);
  assert.equal(huge.diagnostics[0]?.code, "CONFIG_INVALID_VALUE");
});

test("a jwt authorizer needs an issuer and an audience; paths must exist", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cfg-"));
  await writeFile(
    join(dir, "cascade.yaml"),
    "auth: { type: jwt }\nworkflows: flows\nactivities: lib/acts.ts\n",
  );
  const { config, diagnostics } = await loadAppConfig(dir, { display: "cascade.yaml" });
  assert.equal(config, undefined);
  assert.deepEqual(
    diagnostics.map((d) => `${d.line}:${d.code}`),
    ["1:CONFIG_REQUIRED", "2:CONFIG_MISSING_PATH", "3:CONFIG_MISSING_PATH"],
  );
  await assert.rejects(readAppConfig(dir), (error: unknown) => {
    assert.ok(error instanceof AppConfigError);
    assert.equal(error.diagnostics.length, 3);
    assert.match(error.message, /3 error\(s\)/);
    return true;
  });
});

test("schema/cascade.schema.json is generated from lib/app/config-schema.ts (run `npm run schema`)", () => {
  assert.equal(
    readFileSync(repoPath("schema", "cascade.schema.json"), "utf8"),
    `${JSON.stringify(APP_CONFIG_SCHEMA, null, 2)}\n`,
  );
});
