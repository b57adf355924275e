/**
 * Wide Maps on the emulators (dynalite + fauxqs), through the same handlers, adapters
 * and pollers as `cascade dev`: a 10,000-item Map cancelled halfway stops every item
 * still to run, and a Map failing past its tolerance stops the rest. The 100,000-item
 * Map is `npm run test:scale` (minutes on this machine): test/scale/map.scale.ts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const WORKFLOWS = [
  {
    file: "from-s3.yaml",
    source: `name: FromS3
states:
  - name: Each
    type: Map
    item_reader: { bucket: e2e-items, key: orders.jsonl, format: jsonl }
    result_writer: { bucket: e2e-results, key_prefix: runs/one }
    tolerated_failures: 50
    iterator:
      - { name: Check, type: Task, resource: "urn:cascade:activity:check", end: true }
    result: $.written
    end: true
`,
  },
  {
    file: "halfway.yaml",
    source: `name: Halfway
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 200
    iterator:
      - { name: Work, type: Task, resource: "urn:cascade:activity:work", end: true }
    result: $.out
    end: true
`,
  },
  {
    file: "tolerant.yaml",
    source: `name: Tolerant
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    max_concurrency: 100
    tolerated_failures: 5
    iterator:
      - { name: Check, type: Task, resource: "urn:cascade:activity:check", end: true }
    result: $.out
    end: true
`,
  },
];

let cancelledAt = Number.POSITIVE_INFINITY;
let started = 0;
let startedAfterCancel = 0;
let checked = 0;

let stack: LocalStack;
before(async () => {
  stack = await startLocalStack({
    app: "scale",
    ephemeral: true,
    workflows: WORKFLOWS,
    activities: new Map<string, never>([
      [
        "work",
        (async (n: number) => {
          started++;
          if (Date.now() > cancelledAt) startedAfterCancel++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          return n;
        }) as never,
      ],
      [
        "check",
        ((n: number) => {
          checked++;
          if (n % 100 === 42)
            throw Object.assign(new Error(`item ${n}`), { name: "Broken", retryable: false });
          return n;
        }) as never,
      ],
    ]),
    concurrency: 8,
    runtime: { log: () => {} },
  });
  for (const bucket of ["e2e-items", "e2e-results"])
    await stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await stack?.stop();
});

test("a 10,000-item Map cancelled halfway: no item starts after the cancel, none is left running", {
  timeout: 240_000,
}, async () => {
  const items = Array.from({ length: 10_000 }, (_, n) => n);
  await stack.runtime.startExecution("Halfway", { items }, { id: "half-1" });
  for (const t0 = Date.now(); started < 5_000 && Date.now() - t0 < 200_000; )
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(started >= 5_000, `${started} items started in 200 s`);
  assert.deepEqual(await stack.runtime.cancel("default", "half-1", "halfway"), {
    outcome: "cancelled",
  });
  // Runs already past their cancel check when the cancel committed may still start for
  // a moment (the check is read at most every 200 ms per batch); none after that.
  cancelledAt = Date.now() + 1_000;
  const ended = await stack.waitFor("half-1", 60_000);
  assert.equal(ended.thread.status, "cancelled");
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(startedAfterCancel, 0, "items started after the cancel");
  assert.ok(started < 6_000, `${started} of 10,000 items started`);
  const threads = await stack.store.joinThreads(ended.header, "root/Each@1");
  assert.deepEqual(
    threads.filter((t) => t.thread.status === "running").map((t) => t.thread.id),
    [],
  );
});

test("a 5,000-item Map failing past its tolerance fails with the sixth failure and stops the rest", {
  timeout: 240_000,
}, async () => {
  const items = Array.from({ length: 5_000 }, (_, n) => n);
  await stack.runtime.startExecution("Tolerant", { items }, { id: "tol-1" });
  const ended = await stack.waitFor("tol-1", 200_000);
  assert.equal(ended.thread.status, "failed");
  assert.equal(ended.thread.error?.name, "Cascade.BranchFailed");
  assert.match(ended.thread.error?.message ?? "", /item \d+42 of 'Each' failed with Broken/);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  // The sixth failure is item 542; with 100 in flight few past it ever ran.
  assert.ok(checked < 1_500, `${checked} of 5,000 items ran`);
});

test("a Map over a 3,000-line JSON Lines object in the embedded S3, results written back in parts", {
  timeout: 240_000,
}, async () => {
  const lines = Array.from({ length: 3_000 }, (_, n) => `${n + 1}\n`).join("");
  await stack.objects.put("e2e-items", "orders.jsonl", lines);
  await stack.runtime.startExecution("FromS3", {}, { id: "s3-1" });
  const ended = await stack.waitFor("s3-1", 200_000);
  assert.equal(ended.thread.status, "succeeded", JSON.stringify(ended.thread.error));
  const data = (await stack.runtime.codec.load(ended.thread.data)) as {
    written: { result_writer: { manifest_key: string }; counts: Record<string, number> };
  };
  // Lines 42, 142, … (30 of them) fail, within the tolerance.
  assert.deepEqual(data.written.counts, {
    total: 3_000,
    succeeded: 2_970,
    failed: 30,
    cancelled: 0,
  });
  const read = async (key: string) => {
    const info = await stack.objects.head("e2e-results", key);
    const bytes = await stack.objects.getRange("e2e-results", key, 0, info?.size ?? 0);
    return JSON.parse(new TextDecoder().decode(bytes));
  };
  const manifest = (await read(data.written.result_writer.manifest_key)) as { parts: string[] };
  const indexes: number[] = [];
  for (const key of manifest.parts)
    for (const r of ((await read(key)) as { results: { index: number }[] }).results)
      indexes.push(r.index);
  assert.deepEqual(
    indexes,
    Array.from({ length: 3_000 }, (_, n) => n),
  );
});
