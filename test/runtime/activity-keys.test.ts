/**
 * S5 of the reliability review (DESIGN.md invariant 4): an activity's idempotency and
 * step keys include tenant and app, so two tenants — or two apps of one account — never
 * share a key in a downstream idempotency store. (Two tenants through the API:
 * test/api/identity.test.ts "S5".)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ExecutionHeader } from "../../lib/core/ports.ts";
import { activityKeys, resultCacheKey } from "../../lib/runtime/attempt.ts";

const header: ExecutionHeader = {
  tenant: "acme",
  executionId: "order-1",
  app: "shop",
  workflow: "Pay",
  definitionHash: "h",
  startedAt: 0,
  input: { inline: {} },
};
const body = { state: "Charge", token: { thread: "root", step: 3, attempt: 1 } };

test("S5: keys differ by tenant and by app; a retry keeps the step key and moves the attempt key", () => {
  const base = activityKeys(header, body);
  const otherTenant = activityKeys({ ...header, tenant: "globex" }, body);
  const otherApp = activityKeys({ ...header, app: "mall" }, body);
  for (const other of [otherTenant, otherApp]) {
    assert.notEqual(other.idempotencyKey, base.idempotencyKey);
    assert.notEqual(other.stepKey, base.stepKey);
  }
  // Same step, another attempt: the step key stays, the attempt key moves.
  const retry = activityKeys(header, { ...body, token: { ...body.token, attempt: 2 } });
  assert.equal(retry.stepKey, base.stepKey);
  assert.notEqual(retry.idempotencyKey, base.idempotencyKey);
  // Fixed length whatever the names (payment providers cap their keys).
  const long = activityKeys({ ...header, tenant: "t".repeat(64), app: "a".repeat(200) }, body);
  assert.equal(long.idempotencyKey.length, base.idempotencyKey.length);
  // Names that would join to the same text stay apart.
  const a = activityKeys({ ...header, tenant: "ab", app: "c" }, body);
  const b = activityKeys({ ...header, tenant: "a", app: "bc" }, body);
  assert.notEqual(a.stepKey, b.stepKey);
});

test("S5: the task cache's keys are per tenant and app too", () => {
  const cache = { activity: "charge", cache: { key: "k" } } as Parameters<typeof resultCacheKey>[1];
  const base = resultCacheKey(header, cache);
  assert.notEqual(resultCacheKey({ ...header, tenant: "globex" }, cache), base);
  assert.notEqual(resultCacheKey({ ...header, app: "mall" }, cache), base);
});
