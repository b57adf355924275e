/**
 * What an execution cost, over HTTP on the embedded stack: `GET execution`'s `cost`
 * against what the stack's own clients counted while that execution ran alone, and
 * its dollars against the one price table.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiHandler } from "../../lib/api/index.ts";
import { dollarsOf, PRICES } from "../../lib/core/prices.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { ActivityFunction } from "../../lib/runtime/activities.ts";

const TWO_STEPS = `name: TwoSteps
states:
  - { name: One, type: Task, resource: "urn:cascade:activity:work", result: $.one, next: Two }
  - { name: Two, type: Task, resource: "urn:cascade:activity:work", result: $.two, next: Fan }
  - name: Fan
    type: Parallel
    branches:
      - { name: Left, type: Task, resource: "urn:cascade:activity:work", result: $.left }
      - { name: Right, type: Task, resource: "urn:cascade:activity:work", result: $.right }
    end: true
`;

let stack: LocalStack;
let server: HttpServer;

before(async () => {
  stack = await startLocalStack({
    app: "shop",
    workflows: [{ file: "two.yaml", source: TWO_STEPS }],
    activities: new Map<string, ActivityFunction>([
      [
        "work",
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return { ok: true };
        }) as ActivityFunction,
      ],
    ]),
    ephemeral: true,
    runtime: { log: () => {}, memoryMb: { engine: 1024, api: 512 } },
  });
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: "shop",
    local: true,
  });
  server = await startHttpServer({ handler, port: 0 });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

/** The summary says the execution ended once everything its end caused was sent. */
async function summaryEnded(id: string): Promise<void> {
  const until = Date.now() + 15_000;
  while ((await stack.store.getSummary("default", id))?.thread.status === "running") {
    assert.ok(Date.now() < until, `${id} still listed as running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("an execution's cost: SQS requests as the stack counted them, write units, dollars by the price table", async () => {
  // Every SQS request the stack's clients make while this execution runs alone (empty
  // long polls are the event source's, not the execution's).
  const sqs: Record<string, number> = {};
  let counting = false;
  stack.clients.lean.sqs.observe((operation, _input, output) => {
    if (!counting) return;
    if (operation === "ReceiveMessage" && !(output.Messages as unknown[] | undefined)?.length)
      return;
    sqs[operation] = (sqs[operation] ?? 0) + 1;
  });
  counting = true;
  const started = await fetch(`${server.url}/v1/apps/shop/workflows/TwoSteps/executions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: { order: 1 } }),
  });
  assert.equal(started.status, 202);
  const { id } = (await started.json()) as { id: string };
  await stack.waitFor(id);
  await summaryEnded(id);
  // The event source deletes the last batch after its handler returns.
  await new Promise((resolve) => setTimeout(resolve, 300));
  counting = false;

  const got = await fetch(`${server.url}/v1/apps/shop/executions/${id}`);
  assert.equal(got.status, 200);
  const body = (await got.json()) as {
    status: string;
    cost: {
      dynamodb: { writeUnits: number; readUnits: number };
      sqs: { requests: number };
      s3: { requests: number };
      lambda: { invocations: number; gbSeconds: number };
      usd: number;
      estimated: boolean;
    };
  };
  assert.equal(body.status, "succeeded");
  const { cost } = body;
  assert.equal(cost.estimated, true);
  const counted = Object.values(sqs).reduce((a, b) => a + b, 0);
  assert.ok(counted >= 6, JSON.stringify(sqs));
  assert.equal(
    cost.sqs.requests,
    counted,
    `cost ${JSON.stringify(cost)}, counted ${JSON.stringify(sqs)}`,
  );
  // At least the two summary writes and one step per hop (start, One, Two, both branches, the join).
  assert.ok(cost.dynamodb.writeUnits >= 7, JSON.stringify(cost));
  assert.ok(cost.dynamodb.readUnits > 0, JSON.stringify(cost));
  assert.equal(cost.s3.requests, 0, "small data is never offloaded");
  // One API call and one invocation's share per batch; the activities ran 4 × 20 ms.
  assert.ok(
    cost.lambda.invocations >= 2 && cost.lambda.invocations <= 1 + counted,
    JSON.stringify(cost),
  );
  assert.ok(cost.lambda.gbSeconds >= 0.08 * 1 - 1e-9, JSON.stringify(cost));
  const usd = dollarsOf({
    wcu: cost.dynamodb.writeUnits,
    rcu: cost.dynamodb.readUnits,
    sqs: cost.sqs.requests,
    s3: 0,
    s3Get: 0,
    invocations: cost.lambda.invocations,
    gbs: cost.lambda.gbSeconds,
  });
  assert.ok(Math.abs(cost.usd - usd) < 1e-11, `${cost.usd} vs ${usd}`);
  assert.ok(cost.usd > 0 && cost.usd < 100 * PRICES.stepFunctions.transition);
});
