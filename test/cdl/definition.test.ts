/** The normalised definition the engine reads: defaults filled in, durations in ms, names resolved. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { activityNameFor, type Definition, validateWorkflow } from "../../lib/core/cdl/index.ts";
import { repoPath } from "../helpers.ts";

function load(file: string): Definition {
  const text = readFileSync(repoPath("examples", "order-processing", "workflows", file), "utf8");
  const result = validateWorkflow(file, text, { defaultName: "x" });
  assert.ok(result.definition, result.diagnostics.map((d) => d.message).join("; "));
  return result.definition;
}

test("activity names default to the state name in snake_case", () => {
  assert.equal(activityNameFor("VerifyIdentity"), "verify_identity");
  assert.equal(activityNameFor("CheckCredit"), "check_credit");
  assert.equal(activityNameFor("HTTPRequest"), "http_request");
  assert.equal(activityNameFor("Step2Go"), "step2_go");
  assert.equal(activityNameFor("already_snake"), "already_snake");
  assert.equal(activityNameFor("with-dash.and.dot"), "with_dash_and_dot");
});

test("the order workflow normalises with defaults", () => {
  const def = load("order-fulfillment.yaml");
  assert.equal(def.name, "OrderFulfillment");
  assert.equal(def.timeoutMs, 3_600_000);
  assert.equal(def.flow.startAt, "ValidateOrder");
  assert.deepEqual(
    [...def.flow.states.keys()],
    ["ValidateOrder", "CheckValidation", "ParallelVerification", "CombineResults", "RejectOrder"],
  );

  const validate = def.flow.states.get("ValidateOrder");
  assert.ok(validate?.type === "Task");
  assert.deepEqual(validate.resource, { activity: "validate_order" });
  assert.deepEqual(validate.result, []);
  assert.equal(validate.timeoutMs, 5_000);
  assert.deepEqual(validate.retry, [
    {
      errors: ["Transient", "Cascade.Timeout"],
      maxAttempts: 3,
      intervalMs: 200,
      backoffRate: 2,
      jitter: "full",
    },
  ]);
  assert.deepEqual(validate.transition, { next: "CheckValidation" });

  const parallel = def.flow.states.get("ParallelVerification");
  assert.ok(parallel?.type === "Parallel");
  assert.equal(parallel.completion, "ALL");
  assert.equal(parallel.required, 3);
  assert.equal(parallel.result, null);
  assert.deepEqual(
    parallel.branches.map((b) => [b.name, b.single, b.result, b.flow.startAt]),
    [
      ["VerifyIdentity", true, ["identity"], "VerifyIdentity"],
      ["CheckCredit", true, ["credit"], "CheckCredit"],
      ["CheckInventory", true, ["inventory"], "CheckInventory"],
    ],
  );
  const identity = parallel.branches[0]?.flow.states.get("VerifyIdentity");
  assert.ok(identity?.type === "Task");
  assert.deepEqual(identity.resource, { activity: "verify_identity" });
  assert.deepEqual(identity.transition, { end: true });
  assert.deepEqual(parallel.catch, [{ errors: ["ALL"], result: ["error"], next: "RejectOrder" }]);

  const reject = def.flow.states.get("RejectOrder");
  assert.ok(reject?.type === "Fail");
  assert.equal(reject.error, "OrderRejected");
});

test("Map, WaitForEvent, single-mapping retry and cache normalise", () => {
  const def = load("async-queueing.yaml");
  assert.equal(def.timeoutMs, 7 * 86_400_000);
  const map = def.flow.states.get("ReserveItems");
  assert.ok(map?.type === "Map");
  assert.equal(map.maxConcurrency, 10);
  assert.deepEqual(map.result, ["reservations"]);
  const item = map.iterator.states.get("ReserveItem");
  assert.ok(item?.type === "Task");
  assert.deepEqual(item.retry, [
    {
      errors: ["OutOfStockRetry"],
      maxAttempts: 5,
      intervalMs: 1_000,
      backoffRate: 2,
      maxIntervalMs: 10_000,
      jitter: "full",
    },
  ]);
  assert.equal(item.cache?.ttlMs, 600_000);
  const wait = def.flow.states.get("AwaitShipment");
  assert.ok(wait?.type === "WaitForEvent");
  assert.equal(wait.event, "shipped");
  assert.equal(wait.timeoutMs, 86_400_000);
  const notify = def.flow.states.get("NotifyDelay");
  assert.ok(notify?.type === "Task");
  assert.equal(notify.result, null);
  const fulfil = def.flow.states.get("FulfillOrder");
  assert.ok(fulfil?.type === "Task");
  assert.deepEqual(fulfil.resource, { activity: "fulfill_order", pool: "us-east" });
  assert.equal(fulfil.heartbeatMs, 30_000);
});

test("a list-form branch, start_at, AT_LEAST and Pass normalise", () => {
  const text = `name: Forms
states:
  - name: Fan
    type: Parallel
    completion_strategy: AT_LEAST
    at_least: 1
    tolerated_failures: 1
    result: $.all
    branches:
      - name: Credit
        start_at: Score
        states:
          - name: Fetch
            type: Task
            end: true
          - name: Score
            type: Pass
            value: { score: "{{ $.x | default(1) }}" }
            next: Fetch
        result: $.credit
      - name: Other
        type: Pass
    end: true
`;
  const result = validateWorkflow("forms.yaml", text);
  assert.deepEqual(result.diagnostics, []);
  const fan = result.definition?.flow.states.get("Fan");
  assert.ok(fan?.type === "Parallel");
  assert.equal(fan.required, 1);
  assert.equal(fan.toleratedFailures, 1);
  assert.deepEqual(fan.result, ["all"]);
  const credit = fan.branches[0];
  assert.equal(credit?.single, false);
  assert.equal(credit?.flow.startAt, "Score");
  assert.deepEqual(credit?.result, ["credit"]);
  assert.deepEqual(fan.branches[1]?.result, null);
});

test("a Map's tolerated_failure_percentage normalises; max_concurrency 0 and a share over 100 are errors", () => {
  const map = (extra: string) => `name: M
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
${extra}
    iterator:
      - { name: W, type: Pass, end: true }
    end: true
`;
  const both = validateWorkflow(
    "m.yaml",
    map("    tolerated_failures: 3\n    tolerated_failure_percentage: 12.5"),
  );
  assert.deepEqual(both.diagnostics, []);
  const each = both.definition?.flow.states.get("Each");
  assert.ok(each?.type === "Map");
  assert.equal(each.toleratedFailures, 3);
  assert.equal(each.toleratedFailurePercentage, 12.5);
  assert.equal(each.maxConcurrency, 0, "omitted: no limit");

  const share = validateWorkflow("m.yaml", map("    tolerated_failure_percentage: 10"));
  const only = share.definition?.flow.states.get("Each");
  assert.ok(only?.type === "Map");
  assert.equal(only.toleratedFailures, Number.MAX_SAFE_INTEGER, "the share alone decides");

  const bad = validateWorkflow(
    "m.yaml",
    map(
      "    max_concurrency: 0\n    tolerated_failure_percentage: 101\n    tolerated_failures: -1",
    ),
  );
  assert.equal(bad.definition, undefined);
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.code, d.line]),
    [
      ["CDL_INVALID_VALUE", 6],
      ["CDL_INVALID_VALUE", 7],
      ["CDL_INVALID_VALUE", 8],
    ],
  );
});
