/**
 * Redrive over HTTP on the embedded stack (dynalite + fauxqs): a failed execution run
 * again from the state that failed with an edited input, from an earlier state with
 * its recorded data, on the definition it was pinned to; the links both ways; the
 * original's history unchanged; and every refusal's code.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LocalStack } from "../../lib/local/stack.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";
import { type Answer, type ApiStack, expectError, startApiStack } from "./api-stack.ts";

const ORDER = `name: Order
input_schema:
  type: object
  required: [amount]
  properties:
    amount: { type: number }
states:
  - { name: Validate, type: Task, resource: "urn:cascade:activity:validate", result: $.validated, next: Charge }
  - { name: Charge, type: Task, resource: "urn:cascade:activity:charge", result: $.charged, next: Done }
  - { name: Done, type: Pass, end: true }
  - { name: Never, type: Pass, end: true }
`;
const FAN = `name: Fan
states:
  - name: Both
    type: Parallel
    branches:
      - { name: Left, type: Pass, result: $.left }
      - { name: Right, type: Pass, result: $.right }
    end: true
`;
const READER = `name: Reader
states:
  - name: FromObject
    type: Map
    item_reader: { bucket: no-such-bucket, key: items.jsonl, format: jsonl }
    iterator:
      - { name: Line, type: Pass, end: true }
    end: true
`;
const SLOW = `name: Slow
states:
  - { name: Nap, type: Wait, duration: 30s, end: true }
`;

const calls = { validate: 0, charge: 0 };
const ACTIVITIES = new Map<string, ActivityFunction>([
  [
    "validate",
    (async (input: { amount: number }) => {
      calls.validate++;
      return input.amount > 0;
    }) as ActivityFunction,
  ],
  [
    "charge",
    (async (input: { amount: number }) => {
      calls.charge++;
      if (input.amount > 100)
        throw Object.assign(new Error("over the limit"), { name: "Declined" });
      return { paid: input.amount };
    }) as ActivityFunction,
  ],
]);

let api: ApiStack;
let stack: LocalStack;

before(async () => {
  api = await startApiStack({
    app: "shop",
    workflows: [
      { file: "order.yaml", source: ORDER },
      { file: "fan.yaml", source: FAN },
      { file: "slow.yaml", source: SLOW },
      { file: "reader.yaml", source: READER },
    ],
    activities: ACTIVITIES,
  });
  stack = api.stack;
});

after(async () => {
  await api?.stop();
});

const EXEC = "/v1/apps/shop/executions";
const call = (method: string, path: string, body?: unknown) => api.call(method, path, body);
const redrive = (id: string, body: unknown) => call("POST", `${EXEC}/${id}/redrive`, body);

async function run(workflow: string, input: unknown): Promise<Answer> {
  const started = await call("POST", `/v1/apps/shop/workflows/${workflow}/executions?wait=10`, {
    input,
  });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  return started;
}

const ended = (id: string) => api.ended(id, 15_000);
const history = (id: string) => api.history(id);

test("a failed execution redriven from the state that failed, with an edited input, succeeds", async () => {
  const failed = await run("Order", { amount: 500 });
  assert.equal(failed.body.status, "failed");
  const id = failed.body.id as string;
  const before = await history(id);
  const validations = calls.validate;

  const answer = await redrive(id, { input: { amount: 50, validated: true } });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal(answer.body.redriveOf, id);
  assert.equal(answer.body.workflow, "Order");
  assert.notEqual(answer.body.id, id);
  const again = await ended(answer.body.id);
  assert.equal(again.body.status, "succeeded", JSON.stringify(again.body));
  assert.deepEqual(again.body.output, { amount: 50, validated: true, charged: { paid: 50 } });
  assert.equal(calls.validate, validations, "Validate is not run again");
  // The new execution keeps the original's input as workflow.input, and says where it began.
  assert.deepEqual(again.body.input, { amount: 500 });
  assert.equal(again.body.redriveOf, id);
  const started = (await history(answer.body.id))[0] as { type: string; detail: unknown };
  assert.equal(started.type, "ExecutionStarted");
  assert.deepEqual(started.detail, { redriveOf: id, fromState: "Charge" });

  // Linked both ways; the original's history and status are untouched.
  const original = await call("GET", `${EXEC}/${id}`);
  assert.equal(original.body.status, "failed");
  assert.deepEqual(original.body.redrives, [answer.body.id]);
  assert.deepEqual(await history(id), before);
});

test("redrive from an earlier state uses the data it entered that state with, on the pinned definition", async () => {
  const failed = await run("Order", { amount: 101 });
  const id = failed.body.id as string;
  const pinned = (await call("GET", `${EXEC}/${id}`)).body.definitionHash;
  const validations = calls.validate;
  // A new version of the workflow since: the redrive still runs on the pinned one.
  const newer = stack.definitions.register(ORDER.replace("Never", "Later"), "order.yaml");
  assert.notEqual(newer.hash, pinned);
  // The pinned version stays readable (the console draws its graph), beside the current one.
  const old = await call("GET", `/v1/apps/shop/workflows/Order?version=${pinned}`);
  assert.equal(old.status, 200, JSON.stringify(old.body));
  assert.equal(old.body.hash, pinned);
  assert.equal(old.body.current, false);
  assert.match(old.body.source, /name: Never/);
  assert.ok(old.body.graph.nodes.some((n: { id: string }) => n.id === "Never"));
  const now = await call("GET", "/v1/apps/shop/workflows/Order");
  assert.equal(now.body.hash, newer.hash);
  assert.equal(now.body.current, true);
  expectError(await call("GET", "/v1/apps/shop/workflows/Order?version=abc"), 400, "INVALID_QUERY");
  expectError(
    await call("GET", `/v1/apps/shop/workflows/Order?version=${"0".repeat(64)}`),
    404,
    "UNKNOWN_WORKFLOW",
  );
  const fanHash = (await call("GET", "/v1/apps/shop/workflows/Fan")).body.hash;
  expectError(
    await call("GET", `/v1/apps/shop/workflows/Order?version=${fanHash}`),
    404,
    "UNKNOWN_WORKFLOW",
    "has no version",
  );
  const first = await redrive(id, { from_state: "Validate" });
  stack.definitions.register(ORDER, "order.yaml");
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const redone = await ended(first.body.id);
  // Same data, same outcome: Validate runs again, Charge fails again.
  assert.equal(redone.body.status, "failed");
  assert.equal(redone.body.definitionHash, pinned);
  assert.equal(calls.validate, validations + 1);

  // From the start state with an edited input: that input is the new workflow input too.
  const second = await redrive(id, { from_state: "Validate", input: { amount: 7 }, id: "rd-7" });
  assert.equal(second.status, 201);
  assert.equal(second.body.id, "rd-7");
  const fixed = await ended("rd-7");
  assert.equal(fixed.body.status, "succeeded");
  assert.deepEqual(fixed.body.input, { amount: 7 });
  // A retried call with the same id is the same redrive (200, nothing started twice).
  const retried = await redrive(id, { from_state: "Validate", input: { amount: 7 }, id: "rd-7" });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.body.id, "rd-7");

  const original = await call("GET", `${EXEC}/${id}`);
  assert.deepEqual(original.body.redrives, [first.body.id, "rd-7"]);
  // A redrive can itself be redriven.
  const chained = await redrive(first.body.id, {});
  assert.equal(chained.status, 201);
  assert.equal(chained.body.redriveOf, first.body.id);
  await ended(chained.body.id);
});

test("each refusal has its code", async () => {
  const failed = await run("Order", { amount: 1000 });
  const id = failed.body.id as string;
  expectError(
    await redrive(id, { from_state: "Chrage" }),
    400,
    "UNKNOWN_STATE",
    "did you mean 'Charge'",
  );
  expectError(await redrive(id, { from_state: "Never" }), 409, "STATE_NOT_ENTERED", "Never");
  expectError(await redrive(id, { from_state: "Done" }), 409, "STATE_NOT_ENTERED");
  expectError(
    await redrive(id, { from_state: "Validate", input: { amount: "lots" } }),
    422,
    "INVALID_INPUT",
  );
  expectError(await redrive(id, { from: "Charge" }), 400, "INVALID_BODY");
  expectError(await redrive(id, { from_state: 3 }), 400, "INVALID_BODY");
  expectError(await redrive(id, { id: "no spaces" }), 400, "INVALID_ID");
  expectError(await redrive(id, { id }), 409, "ID_CONFLICT");
  expectError(await redrive("nope", {}), 404, "UNKNOWN_EXECUTION");

  const ok = await run("Order", { amount: 3 });
  expectError(await redrive(ok.body.id, {}), 400, "FROM_STATE_REQUIRED");
  const fromDone = await redrive(ok.body.id, { from_state: "Done" });
  assert.equal(fromDone.status, 201);
  assert.equal((await ended(fromDone.body.id)).body.status, "succeeded");

  const fan = await run("Fan", {});
  const left = await redrive(fan.body.id, { from_state: "Left" });
  assert.equal(left.status, 201, JSON.stringify(left.body));
  assert.equal((await ended(left.body.id)).body.status, "succeeded");
  // A Map reading its items from an object is redriven from the Map (its items are read again).
  const reader = await run("Reader", {});
  assert.equal(reader.body.status, "failed");
  expectError(
    await redrive(reader.body.id, { from_state: "Line" }),
    400,
    "STATE_IN_BRANCH",
    "FromObject",
  );
  const fanAgain = await redrive(fan.body.id, { from_state: "Both" });
  assert.equal(fanAgain.status, 201);
  assert.equal((await ended(fanAgain.body.id)).body.status, "succeeded");

  const slow = await call("POST", "/v1/apps/shop/workflows/Slow/executions", { input: {} });
  assert.equal(slow.status, 202);
  expectError(await redrive(slow.body.id, {}), 409, "EXECUTION_RUNNING");
  // Once cancelled, the default is the state it stopped in.
  assert.equal((await call("POST", `${EXEC}/${slow.body.id}/cancel`, {})).status, 202);
  await stack.waitFor(slow.body.id);
  const resumed = await redrive(slow.body.id, {});
  assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
  const got = await call("GET", `${EXEC}/${resumed.body.id}`);
  assert.equal(got.body.current[0]?.state, "Nap");
  await call("POST", `${EXEC}/${resumed.body.id}/cancel`, {});
});
