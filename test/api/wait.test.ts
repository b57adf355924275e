/**
 * `GET .../executions/{id}?wait=N` over HTTP on the embedded stack: a long poll for an
 * execution's end that starts nothing. Before it, `cascade load` waited by POSTing the
 * start again, and each retried start re-sent the first step: 1,833 runs of the first
 * activity for 1,000 executions. And the history of a start whose first activity is
 * still running (a lazy start: no step yet) answers the start's events.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiStack } from "./api-stack.ts";

const SOURCE = `name: Slow
states:
  - { name: First, type: Task, resource: "urn:cascade:activity:first", result: $.first, next: Second }
  - { name: Second, type: Task, resource: "urn:cascade:activity:second", result: $.second, end: true }
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("GET execution ?wait=N answers at the end, starts nothing, and is bounded like a start's wait", async () => {
  const runs = { first: 0, second: 0 };
  let release: (() => void) | undefined;
  const api = await startApiStack({
    app: "w",
    workflows: [{ file: "slow.yaml", source: SOURCE }],
    activities: new Map<string, (input: unknown) => unknown>([
      [
        "first",
        async () => {
          runs.first++;
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          return 1;
        },
      ],
      [
        "second",
        () => {
          runs.second++;
          return 2;
        },
      ],
    ]),
  });
  try {
    const started = await api.call("POST", "/v1/apps/w/workflows/Slow/executions", {
      input: {},
      id: "s-1",
    });
    assert.equal(started.status, 202);
    while (!release) await sleep(5);
    // The first activity runs and no step is committed yet: history is the start's.
    const history = await api.call("GET", "/v1/apps/w/executions/s-1/history");
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.events.map((e: { type: string }) => e.type),
      ["ExecutionStarted", "StateEntered", "ActivityScheduled"],
    );
    const waiting = api.call("GET", "/v1/apps/w/executions/s-1?wait=10");
    await sleep(300);
    const began = performance.now();
    release?.();
    const ended = await waiting;
    assert.equal(ended.status, 200);
    assert.equal(ended.body.status, "succeeded");
    assert.deepEqual(ended.body.output, { first: 1, second: 2 });
    assert.ok(performance.now() - began < 5_000, "the wait answers at the end, not at its limit");
    assert.deepEqual(runs, { first: 1, second: 1 }, "waiting started nothing again");
    // Ended already: answered at once. Over 29 s: refused, as a start's wait is.
    const again = await api.call("GET", "/v1/apps/w/executions/s-1?wait=29");
    assert.equal(again.body.status, "succeeded");
    const over = await api.call("GET", "/v1/apps/w/executions/s-1?wait=30");
    assert.equal(over.status, 400);
    assert.equal(over.body.error.code, "INVALID_QUERY");
  } finally {
    await api.stop();
  }
});

test("GET execution ?wait=N on an execution still running at the limit answers it running", async () => {
  let release: (() => void) | undefined;
  const api = await startApiStack({
    app: "w",
    workflows: [{ file: "slow.yaml", source: SOURCE }],
    activities: new Map<string, (input: unknown) => unknown>([
      ["first", () => new Promise((resolve) => (release = () => resolve(1)))],
      ["second", () => 2],
    ]),
  });
  try {
    await api.call("POST", "/v1/apps/w/workflows/Slow/executions", { input: {}, id: "s-2" });
    const began = performance.now();
    const got = await api.call("GET", "/v1/apps/w/executions/s-2?wait=1");
    assert.equal(got.status, 200);
    assert.equal(got.body.status, "running");
    assert.ok(performance.now() - began >= 900, "it waited its second");
    release?.();
    const ended = await api.ended("s-2");
    assert.equal(ended.body.status, "succeeded");
  } finally {
    release?.();
    await api.stop();
  }
});
