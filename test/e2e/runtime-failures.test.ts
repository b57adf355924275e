/**
 * On the emulators: dedicated worker queues, dead-lettering through the real
 * redrive policy, and the TTL attribute on finished executions.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { OutMessage } from "../../lib/core/ports.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import { ITEM, KEYS, TABLE } from "../../lib/manifest/index.ts";

const WORKFLOWS = [
  {
    file: "regional.yaml",
    source: `name: Regional
states:
  - { name: Square, type: Task, resource: "urn:cascade:activity:square@us-east", result: $.square, end: true }
`,
  },
  {
    file: "hold.yaml",
    source: `name: Hold
states:
  - { name: Wait, type: WaitForEvent, event: never, end: true }
`,
  },
];

let stack: LocalStack;
before(async () => {
  stack = await startLocalStack({
    app: "fail",
    ephemeral: true,
    workflows: WORKFLOWS,
    activities: new Map([["square", ((input: { n: number }) => input.n * input.n) as never]]),
    maxReceiveCount: 2,
    runtime: { log: () => {}, workerRegions: new Set(["us-east"]) },
  });
});
after(async () => {
  await stack?.stop();
});

test("an activity with a region runs on its dedicated worker queue", async () => {
  await stack.runtime.startExecution("Regional", { n: 7 }, { id: "r-1" });
  const record = await stack.waitFor("r-1", 20_000);
  assert.equal(record.thread.status, "succeeded", JSON.stringify(record.thread.error));
  assert.deepEqual(await stack.runtime.codec.load(record.thread.data), { n: 7, square: 49 });
  assert.ok(stack.provisioned.queues.has("worker:us-east"));
});

test("finished executions carry the TTL attribute: now plus the retention", async () => {
  // The summary's end is written once the end's messages are sent, a moment after the
  // root's last step (which `waitFor` sees). Until then the summary holds the start's
  // TTL (the retention after the longest life): wait for its end, up to 10 s.
  let expires = Number.NaN;
  let status = "";
  for (const started = Date.now(); status !== "succeeded" && Date.now() - started < 10_000; ) {
    const item = await stack.clients.dynamodb.send(
      new GetItemCommand({
        TableName: stack.provisioned.table,
        Key: { pk: { S: KEYS.execution("default", "r-1") }, sk: { S: ITEM.execution } },
      }),
    );
    status = item.Item?.st?.S ?? "";
    expires = Number(item.Item?.[TABLE.ttlAttribute]?.N);
    if (status !== "succeeded") await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(status, "succeeded", "the summary's end was not written within 10 s");
  const expected = Date.now() / 1000 + 30 * 86_400;
  assert.ok(
    Math.abs(expires - expected) < 120,
    `expires_at ${expires} should be about ${expected}`,
  );
});

test("a message that keeps failing is dead-lettered and fails the thread it concerns with the reason", async () => {
  const { record } = await stack.runtime.startExecution("Hold", {}, { id: "poison-1" });
  // An event for the root whose payload cannot be read: every delivery fails.
  const poison: OutMessage = {
    mid: "poison",
    queue: "transitions",
    body: {
      kind: "event",
      header: record.header,
      thread: "root",
      event: {
        type: "EventReceived",
        event: "never",
        payload: { ref: "payloads/poison-1/missing.json", bytes: 2 },
      },
    },
  };
  await stack.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.provisioned.queues.get("transitions"),
      MessageBody: JSON.stringify(poison),
    }),
  );
  const ended = await stack.waitFor("poison-1", 20_000);
  assert.equal(ended.thread.status, "failed");
  assert.equal(ended.thread.error?.name, "Cascade.RuntimeFailure");
  assert.match(
    ended.thread.error?.message ?? "",
    /a message of this execution \(event\) failed repeatedly and was dead-lettered: NoSuchKey/,
  );
});
