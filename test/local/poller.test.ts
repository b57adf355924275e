/**
 * The local poller enforces its function's timeout as Lambda does, on the embedded
 * queue: a batch still running at the timeout is killed (its signal aborted, nothing
 * deleted, its messages delivered again after the visibility timeout with a higher
 * receive count); a batch within the timeout is untouched, even past the visibility
 * timeout. And the local stack wires the engine's timeout to the transition queue.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SqsMessageQueue, SqsQueueConsumer } from "../../lib/adapters/aws/sqs-queue.ts";
import type { OutMessage, ReceivedMessage } from "../../lib/core/ports.ts";
import { startDevServer } from "../../lib/local/dev.ts";
import { type KilledBatch, Poller } from "../../lib/local/poller.ts";
import { type FunctionTimeout, startLocalStack } from "../../lib/local/stack.ts";
import { writeApp } from "../cli/dev-process.ts";
import { useEmulators } from "../support/emulators.ts";

const VISIBILITY_MS = 1_000;
const emulators = useEmulators("poller", {
  workerRegions: ["killed", "intime"],
  visibilityTimeoutSeconds: VISIBILITY_MS / 1000,
});

/** A message the poller only carries: its handler here never interprets it. */
const envelope = (queue: string, executionId: string): OutMessage =>
  ({
    mid: `${executionId}/0`,
    queue,
    body: { kind: "run", header: { tenant: "default", executionId } },
  }) as unknown as OutMessage;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function setup(queue: string) {
  const url = emulators.provisioned.queues.get(queue);
  assert.ok(url, `no queue ${queue}`);
  return {
    consumer: new SqsQueueConsumer(emulators.clients.sqs, url),
    send: (id: string) =>
      new SqsMessageQueue(emulators.clients.sqs, emulators.provisioned.queues).send(
        [envelope(queue, id)],
        Date.now(),
      ),
  };
}

test("a batch that outlives its function's timeout is killed: signal aborted, nothing deleted, redelivered with receive count 2", async () => {
  const { consumer, send } = setup("worker:killed");
  const deliveries: { receiveCount: number; deadline: number; receivedAt: number }[] = [];
  const signals: AbortSignal[] = [];
  const killed: KilledBatch[] = [];
  const errors: unknown[] = [];
  const FUNCTION_TIMEOUT_MS = 400;
  const poller = new Poller(
    consumer,
    async (messages, { signal, deadline }) => {
      const receiveCount = messages[0]?.receiveCount ?? 0;
      deliveries.push({ receiveCount, deadline, receivedAt: Date.now() });
      signals.push(signal);
      if (receiveCount === 1) {
        // Runs on after the kill, then reports success: the poller must not delete it.
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        await sleep(200);
      }
      return [];
    },
    {
      waitMs: 200,
      visibilityTimeoutMs: VISIBILITY_MS,
      functionTimeoutMs: FUNCTION_TIMEOUT_MS,
      onTimeout: (batch) => killed.push(batch),
      onError: (error) => errors.push(error),
    },
  );
  await send("slow-1");
  poller.start();
  try {
    await until(() => deliveries.length >= 2, 10_000, "the redelivery");
    await until(() => poller.handled >= 2, 5_000, "the second batch to finish");
  } finally {
    await poller.stop();
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(
    deliveries.map((d) => d.receiveCount),
    [1, 2],
  );
  const [first, second] = deliveries;
  assert.ok(first && second);
  assert.ok(
    Math.abs(first.deadline - (first.receivedAt + FUNCTION_TIMEOUT_MS)) < 100,
    "the deadline is the function's timeout from the start of the invocation",
  );
  // Delivered again only once its visibility timeout passed, not at once.
  assert.ok(second.receivedAt - first.receivedAt >= FUNCTION_TIMEOUT_MS + VISIBILITY_MS / 2 - 50);
  assert.equal(signals[0]?.aborted, true);
  assert.equal((signals[0]?.reason as Error | undefined)?.name, "TimeoutError");
  assert.equal(signals[1]?.aborted, false);
  assert.equal(killed.length, 1);
  assert.equal(killed[0]?.functionTimeoutMs, FUNCTION_TIMEOUT_MS);
  assert.deepEqual(
    killed[0]?.messages.map((m: ReceivedMessage) => m.envelope.mid),
    ["slow-1/0"],
  );
  assert.equal(poller.timedOut, 1);
  // The second delivery succeeded in time: it was deleted, nothing comes back.
  await sleep(VISIBILITY_MS + 200);
  assert.deepEqual(await consumer.receive(10, 0), []);
});

test("a batch within its function's timeout is unaffected, even when it runs past the visibility timeout", async () => {
  const { consumer, send } = setup("worker:intime");
  const deliveries: number[] = [];
  const signals: AbortSignal[] = [];
  const killed: KilledBatch[] = [];
  const poller = new Poller(
    consumer,
    async (messages, { signal }) => {
      deliveries.push(messages[0]?.receiveCount ?? 0);
      signals.push(signal);
      await sleep(1_600);
      return [];
    },
    {
      waitMs: 200,
      visibilityTimeoutMs: VISIBILITY_MS,
      functionTimeoutMs: 5_000,
      onTimeout: (batch) => killed.push(batch),
    },
  );
  await send("steady-1");
  poller.start();
  try {
    await until(() => poller.handled >= 1, 10_000, "the batch");
    await sleep(VISIBILITY_MS + 300);
  } finally {
    await poller.stop();
  }
  assert.deepEqual(deliveries, [1], "kept invisible while handled, then deleted");
  assert.equal(signals[0]?.aborted, false);
  assert.deepEqual(killed, []);
  assert.equal(poller.timedOut, 0);
  assert.deepEqual(await consumer.receive(10, 0), []);
});

test("cascade dev's stack gives the transition queue the engine's timeout and reports a killed batch", async () => {
  let calls = 0;
  const timeouts: FunctionTimeout[] = [];
  const stack = await startLocalStack({
    app: "killed",
    ephemeral: true,
    emulatorThread: false,
    workflows: [
      {
        file: "slow.yaml",
        source:
          "name: Slow\nstates:\n  - { name: Nap, type: Task, resource: 'urn:cascade:activity:nap', end: true }\n",
      },
    ],
    activities: new Map([
      [
        "nap",
        (async () => {
          calls++;
          // The first run outlives the engine's 1s; the redelivered one is quick.
          if (calls === 1) await sleep(1_500);
          return "rested";
        }) as never,
      ],
    ]),
    visibilityTimeoutSeconds: 1,
    functionTimeouts: { engineSeconds: 1, workersSeconds: 30 },
    onFunctionTimeout: (timeout) => timeouts.push(timeout),
    runtime: { log: () => {} },
  });
  try {
    await stack.runtime.startExecution("Slow", {}, { id: "slow-1" });
    const record = await stack.waitFor("slow-1", 20_000);
    assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  } finally {
    await stack.stop();
  }
  assert.equal(timeouts.length, 1, JSON.stringify(timeouts));
  const [timeout] = timeouts;
  assert.equal(timeout?.queue, "transitions");
  assert.equal(timeout?.function, "the engine function");
  assert.equal(timeout?.timeoutSeconds, 1);
  assert.deepEqual(timeout?.executions, ["slow-1"]);
  assert.match(
    timeout?.message ?? "",
    /^the engine function timed out after 1s handling 1 message\(s\) of slow-1: the invocation is killed/,
  );
});

test("cascade dev takes the engine's timeout from cascade.yaml and logs a killed batch in one line", async () => {
  const dir = writeApp({
    "cascade.yaml": "name: sleepy\ndeployments:\n  engine: { timeout: 1s }\n",
    "workflows/slow.yaml":
      "name: Slow\nstates:\n  - { name: Nap, type: Task, resource: 'urn:cascade:activity:nap', end: true }\n",
    "activities/index.ts": `let calls = 0;
export async function nap() {
  calls++;
  if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 1_500));
  return "rested";
}
`,
  });
  const lines: string[] = [];
  const server = await startDevServer({
    dir,
    cwd: dir,
    port: 0,
    ephemeral: true,
    watch: false,
    emulatorThread: false,
    logFormat: "json",
    log: (line) => lines.push(line),
  });
  try {
    await server.stack.runtime.startExecution("Slow", {}, { id: "nap-1" });
    const record = await server.stack.waitFor("nap-1", 30_000);
    assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  } finally {
    await server.stop();
  }
  const killed = lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.kind === "function-timeout");
  assert.equal(killed.length, 1, lines.join("\n"));
  assert.deepEqual(
    { ...killed[0], time: undefined, message: undefined },
    {
      time: undefined,
      level: "error",
      kind: "function-timeout",
      queue: "transitions",
      function: "the engine function",
      timeoutSeconds: 1,
      executions: ["nap-1"],
      messages: 1,
      message: undefined,
    },
  );
});
