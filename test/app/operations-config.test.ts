/**
 * The seed documents' operations blocks in cascade.yaml: accepted (no error), each key
 * either mapped to its meaning on AWS or warned about at its own line with what to
 * write instead; malformed alerts are errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseAppConfig } from "../../lib/app/config.ts";
import { parseCondition, parseTarget } from "../../lib/app/operations-config.ts";
import { repoPath } from "../helpers.ts";

const SEED = readFileSync(repoPath("test", "fixtures", "seed", "cascade.yaml"), "utf8");
const parse = (text: string) =>
  parseAppConfig("cascade.yaml", text, repoPath("test", "fixtures", "seed"));

test("the seed's blocks validate: no error, a warning per key without an AWS meaning", () => {
  const { config, diagnostics } = parse(SEED);
  const errors = diagnostics.filter((d) => d.severity === "error");
  assert.deepEqual(errors, []);
  assert.ok(config);
  const warned = diagnostics.filter((d) => d.severity === "warning").map((d) => d.path);
  assert.deepEqual(warned.sort(), [
    "autoscaling.cpu_threshold",
    "autoscaling.memory_threshold",
    "cache.eviction_policy",
    "cache.max_memory",
    "cache.nodes",
    "cache.partitioning",
    "cache.provider",
    "cache.replicas",
    "database.idle_timeout",
    "database.max_lifetime",
    "database.primary",
    "database.replicas",
    "database.validation_interval",
    "deployments.workers.replicas",
    "deployments.workers.resources.limits.cpu",
    "deployments.workers.resources.requests.cpu",
    "messaging.broker",
    "messaging.partitions",
    "messaging.replication",
    "messaging.topics",
    "platform.resources",
    "temporal.activity_heartbeat_timeout",
    "temporal.activity_workers",
    "temporal.max_concurrent_activities",
  ]);
  for (const d of diagnostics) {
    assert.equal(d.code, "CONFIG_NOT_ON_LAMBDA");
    assert.match(d.message, /^accepted, no effect on AWS: .{20,}/);
    assert.ok(d.line > 0 && d.column > 0);
  }
  // The seed turns no cache on, so its max_memory sizes nothing: said so.
  const maxMemory = diagnostics.find((d) => d.path === "cache.max_memory");
  assert.match(maxMemory?.message ?? "", /cache\.enabled/);
});

test("cache.max_memory caps ElastiCache Serverless's data storage (whole GB) when the cache is on", () => {
  const on = parse("cache:\n  enabled: true\n  max_memory: 4gb\n");
  assert.deepEqual(on.diagnostics, []);
  assert.deepEqual(on.config?.cache, { enabled: true, ttlSeconds: 300, maxMemoryGb: 4 });
  assert.equal(
    parse("cache: { enabled: true, max_memory: 1500MB }\n").config?.cache.maxMemoryGb,
    2,
  );
  assert.equal(parse("cache: { enabled: true, max_memory: 100mb }\n").config?.cache.maxMemoryGb, 1);
  assert.equal(
    parse("cache: { enabled: true, max_memory: 2Ti }\n").config?.cache.maxMemoryGb,
    2048,
  );
  const tooBig = parse("cache: { enabled: true, max_memory: 6tb }\n");
  assert.equal(tooBig.config, undefined);
  assert.deepEqual(
    tooBig.diagnostics.map((d) => [d.code, d.path]),
    [["CONFIG_LIMIT", "cache.max_memory"]],
  );
  const unreadable = parse("cache: { enabled: true, max_memory: lots }\n");
  assert.equal(unreadable.config, undefined);
});

test("the keys with a meaning on AWS take it", () => {
  const { config } = parse(SEED);
  assert.ok(config);
  // limits.memory wins over requests.memory: Lambda memory.
  assert.equal(config.deployments.workers.memoryMb, 1024);
  // The flat HPA keys are the workers': provisioned concurrency and maximum concurrency.
  assert.deepEqual(config.autoscaling.workers, { min: 2, max: 20 });
  assert.equal(config.operations.queueDepthAlarm.workers, 100);
  assert.equal(config.operations.targetQueueDepth.workers, 50);
  assert.equal(config.cache.maxMemoryGb, 4, "read, though the seed's cache is off");
  assert.deepEqual(config.operations.alerts, [
    {
      name: "HighQueueDepth",
      metric: "queue_depth",
      operator: ">",
      threshold: 100,
      forMinutes: 5,
      action: "scale_up",
      step: { change: 5, role: "workers" },
    },
    {
      name: "LowQueueDepth",
      metric: "queue_depth",
      operator: "<",
      threshold: 10,
      forMinutes: 10,
      action: "scale_down",
      step: { change: -2, role: "workers" },
    },
  ]);
});

test("alerts: bad conditions and targets are errors at their line; scaling without provisioned concurrency warns", () => {
  const { config, diagnostics } = parse(`alerts:
  - { name: A, condition: "queue_depth >> 100" }
  - { name: B, condition: "p99_latency > 1", action: notify }
  - { name: C, condition: "queue_depth > 100", action: scale_up, target: "five more" }
  - { name: D, condition: "queue_depth > 100", action: scale_up }
`);
  assert.equal(config, undefined);
  assert.deepEqual(
    diagnostics.filter((d) => d.severity === "error").map((d) => [d.code, d.path, d.line]),
    [
      ["CONFIG_INVALID_ALERT", "alerts[0].condition", 2],
      ["CONFIG_INVALID_ALERT", "alerts[1].condition", 3],
      ["CONFIG_INVALID_ALERT", "alerts[2].target", 4],
      ["CONFIG_INVALID_ALERT", "alerts[3].action", 5],
    ],
  );
  const unscaled = parse(`alerts:
  - { name: Up, condition: "queue_depth > 100", action: scale_up, target: "+5 workers", for: 2m }
`);
  assert.ok(unscaled.config);
  assert.deepEqual(
    unscaled.diagnostics.map((d) => [d.severity, d.path]),
    [["warning", "alerts[0].action"]],
  );
  assert.match(unscaled.diagnostics[0]?.message ?? "", /min_replicas/);
});

test("cache.ttl takes its meaning (ctx.cache.set's default TTL): no warning", () => {
  const { config, diagnostics } = parse("cache:\n  enabled: true\n  ttl: 10m\n");
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(config?.cache, { enabled: true, ttlSeconds: 600 });
});

test("conditions and targets", () => {
  assert.deepEqual(parseCondition("error_rate > 0.5%"), {
    metric: "error_rate",
    operator: ">",
    threshold: 0.5,
  });
  assert.deepEqual(parseCondition("p99_latency >= 1s"), {
    metric: "p99_latency",
    operator: ">=",
    threshold: 1000,
  });
  assert.deepEqual(parseCondition("dlq_depth > 0"), {
    metric: "dlq_depth",
    operator: ">",
    threshold: 0,
  });
  assert.equal(typeof parseCondition("queue_depth > 5ms"), "string");
  assert.deepEqual(parseTarget("-2 engine"), { change: -2, role: "engine" });
  assert.deepEqual(parseTarget("+1 worker"), { change: 1, role: "workers" });
});
