/**
 * The history the API answers says what the step inspector shows: each ActivityScheduled
 * event with the keys its attempt's activity received (computed on read, never stored).
 * A cached Task's `detail.cache` is tested with the cache (test/runtime/memory-runtime.test.ts).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { type ApiHandler, createApiHandler } from "../../lib/api/index.ts";
import type { ActivityContext } from "../../lib/core/activity.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";

const WORKFLOW = `name: Pay
states:
  - name: Charge
    type: Task
    resource: urn:cascade:activity:charge
    retry: [{ errors: [ALL], max_attempts: 3, interval: 10ms }]
    end: true
`;

const seen: { attempt: number; idempotencyKey: string; stepKey: string }[] = [];
const charge: ActivityFunction = async (_input: unknown, ctx: ActivityContext) => {
  seen.push({ attempt: ctx.attempt, idempotencyKey: ctx.idempotencyKey, stepKey: ctx.stepKey });
  if (ctx.attempt === 1) throw new Error("declined, try again");
  return { charged: true };
};

let stack: LocalStack;
let api: ApiHandler;

before(async () => {
  stack = await startLocalStack({
    app: "shop",
    workflows: [{ file: "pay.yaml", source: WORKFLOW }],
    activities: new Map([["charge", charge]]),
    ephemeral: true,
    runtime: { log: () => {} },
  });
  api = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    local: true,
  });
});

after(async () => {
  await stack?.stop();
});

const get = async (path: string) => {
  const answer = await api({
    rawPath: path,
    headers: {},
    requestContext: { http: { method: "GET", path }, requestId: "t" },
  } as unknown as APIGatewayProxyEventV2);
  assert.equal(answer.statusCode, 200, answer.body);
  return JSON.parse(answer.body ?? "{}");
};

test("each ActivityScheduled event carries the keys its activity received", async () => {
  await stack.runtime.startExecution("Pay", {}, { id: "pay-1" });
  await stack.waitFor("pay-1");
  const history = await get("/v1/apps/shop/executions/pay-1/history");
  const scheduled = history.events.filter((e: { type: string }) => e.type === "ActivityScheduled");
  assert.equal(scheduled.length, 2);
  assert.deepEqual(
    scheduled.map((e: { attempt: number; keys: unknown }) => ({
      attempt: e.attempt,
      ...(e.keys as object),
    })),
    seen,
  );
  // One step: the retries share the step key, each attempt has its own key.
  assert.equal(seen[0]?.stepKey, seen[1]?.stepKey);
  assert.notEqual(seen[0]?.idempotencyKey, seen[1]?.idempotencyKey);
  for (const e of history.events)
    if (e.type !== "ActivityScheduled") assert.equal(e.keys, undefined, e.type);
});
