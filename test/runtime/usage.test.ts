/**
 * The pieces of an execution's cost, without a stack: the invocation meter's shares and
 * GB-seconds, the keys that name an execution, and dollars at the one price table.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ownerOfPartition, ownerOfPayload } from "../../lib/adapters/aws/usage.ts";
import { NO_USAGE } from "../../lib/core/ports.ts";
import { costOf, dollarsOf, PRICES } from "../../lib/core/prices.ts";
import { InvocationUsage, UsageMeter } from "../../lib/runtime/usage.ts";

const A = { tenant: "t", executionId: "a" };
const B = { tenant: "t", executionId: "b" };

test("an invocation's time is split between the executions it serves; the call's own charge goes to the first", () => {
  const usage = new InvocationUsage(2048, 1_000, { invocations: 1 });
  usage.serves(2);
  usage.add(A, { wcu: 2 });
  const a = usage.take(A, 3_000);
  // 2 s × 2 GB / 2 executions.
  assert.equal(a.gbs, 2);
  assert.equal(a.wcu, 2);
  assert.equal(a.invocations, 1);
  const b = usage.take(B, 2_000);
  assert.equal(b.gbs, 1);
  assert.equal(b.invocations, 0, "charged once");
  // The next take counts from the previous one; what was taken is gone.
  const again = usage.take(A, 3_500);
  assert.equal(again.gbs, 0.5);
  assert.equal(again.wcu, 0);
  usage.giveBack(A, again);
  assert.equal(usage.take(A, 3_500).gbs, 0.5);
});

test("the meter charges the invocation being run, and nothing outside one", async () => {
  const meter = new UsageMeter();
  meter.charge(A, { rcu: 5 });
  const usage = new InvocationUsage(1024, 0);
  await meter.run(usage, async () => {
    await new Promise((resolve) => setImmediate(resolve));
    meter.charge(A, { rcu: 1 });
    assert.equal(meter.current, usage);
  });
  assert.equal(meter.current, undefined);
  assert.equal(usage.take(A, 0).rcu, 1);
});

test("keys name their execution; others name none", () => {
  assert.deepEqual(ownerOfPartition("X#acme#order-1"), { tenant: "acme", executionId: "order-1" });
  assert.equal(ownerOfPartition("D#abc"), undefined);
  assert.equal(ownerOfPartition(undefined), undefined);
  assert.deepEqual(ownerOfPayload("payloads/a%20b/x%3A1/abc.json"), {
    tenant: "a b",
    executionId: "x:1",
  });
  assert.equal(ownerOfPayload("other/a/b/c"), undefined);
  assert.equal(ownerOfPayload("payloads/%E0%A4%A/x/y"), undefined);
});

test("dollars are the usage at the table's prices", () => {
  const usage = {
    ...NO_USAGE,
    wcu: 1e6,
    rcu: 1e6,
    sqs: 1e6,
    s3: 1000,
    s3Get: 1000,
    invocations: 1e6,
    gbs: 1,
  };
  const expected = 0.625 + 0.125 + 0.4 + 0.005 + 0.0004 + 0.2 + 0.0000133334;
  assert.ok(Math.abs(dollarsOf(usage) - expected) < 1e-9);
  const cost = costOf(usage);
  assert.equal(cost.s3.requests, 2000);
  assert.equal(cost.estimated, true);
  assert.equal(cost.partial, undefined);
  assert.equal(costOf(NO_USAGE, false).partial, true);
  assert.match(PRICES.date, /^\d{4}-\d{2}-\d{2}$/);
});
