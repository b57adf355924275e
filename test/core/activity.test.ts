/** The activity contract: which exports are activities, and the errors' names and flags. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { activitiesOf, defineActivity, nonRetryable, retryAfter } from "../../lib/index.ts";
import { toWorkflowError } from "../../lib/runtime/activities.ts";

test("with defineActivity in a module, only those exports are activities; helpers are not", () => {
  const found = activitiesOf({
    charge: defineActivity(async () => 1),
    refund: defineActivity(async () => 2),
    getPool: () => ({}),
    VERSION: "1",
    default: defineActivity(async () => 3),
  });
  assert.deepEqual([...found.keys()], ["charge", "refund"]);
});

test("a module with no defineActivity keeps the old rule: every exported function", () => {
  const found = activitiesOf({ a: () => 1, b: async () => 2, c: 3, default: () => 4 });
  assert.deepEqual([...found.keys()], ["a", "b"]);
});

test("nonRetryable and retryAfter cross the wire by name, with their flags", () => {
  assert.deepEqual(toWorkflowError(nonRetryable("Card.Declined", "no")), {
    name: "Card.Declined",
    message: "no",
    retryable: false,
  });
  assert.deepEqual(toWorkflowError(retryAfter(1500)), {
    name: "Cascade.RetryAfter",
    message: "retry after 1500ms",
    retryAfterMs: 1500,
  });
  assert.throws(() => retryAfter(-1), RangeError);
});
