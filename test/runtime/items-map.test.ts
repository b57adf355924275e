/**
 * Maps over S3 objects (`item_reader`) and into them (`result_writer`), end to end on the
 * memory adapters: the object is read a page at a time into the payload store, the Map
 * fans out over the pages, and the fan-in writes parts and a manifest.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryObjectStore } from "../../lib/adapters/memory/objects.ts";
import { memoryStack } from "../support/memory-stack.ts";

const mapOver = (name: string, reader: string, extra = "") => ({
  file: `${name}.yaml`,
  source: `name: ${name}
states:
  - name: Each
    type: Map
    item_reader: ${reader}
${extra}
    iterator:
      - { name: Work, type: Task, resource: "urn:cascade:activity:work", end: true }
    result: $.out
    catch: [{ errors: [Cascade.ItemReaderFailed], result: $.error, next: Failed }]
    end: true
  - { name: Failed, type: Pass, end: true }
`,
});

const read = (objects: MemoryObjectStore, bucket: string, key: string) =>
  objects
    .getRange(bucket, key, 0, Number.MAX_SAFE_INTEGER)
    .then((b) => new TextDecoder().decode(b));

test("a Map over a 2,500-line JSON Lines object: outputs in order, read a page at a time", {
  timeout: 120_000,
}, async () => {
  const objects = new MemoryObjectStore(["inputs"]);
  const lines = Array.from({ length: 2_500 }, (_, n) => JSON.stringify({ n }));
  await objects.put("inputs", "day/1.jsonl", `${lines.join("\n")}\n`);
  const stack = memoryStack({
    workflows: [
      mapOver(
        "Lines",
        '{ bucket: "{{ $.bucket }}", key: "day/{{ $.day }}.jsonl", format: jsonl }',
        "    max_concurrency: 100",
      ),
    ],
    activities: { work: (item: { n: number }) => item.n * 3 },
    objects,
    batches: true,
  });
  await stack.runtime.startExecution("Lines", { bucket: "inputs", day: 1 }, { id: "l-1" });
  await stack.drain();
  const done = await stack.execution("l-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  const data = (await stack.runtime.codec.load(done.thread.data)) as { out: number[] };
  assert.deepEqual(
    data.out,
    lines.map((_, n) => n * 3),
  );
  // Pages of at most 1,000 items in the payload store, each read by its own message.
  const pages = [...stack.payloads.objects.keys()].filter((k) => k.includes("/items/"));
  assert.ok(pages.length >= 3, `${pages.length} pages`);
  for (const key of pages)
    assert.ok((JSON.parse(stack.payloads.objects.get(key) ?? "[]") as unknown[]).length <= 1_000);
});

test("CSV with a header row, and max_items", { timeout: 60_000 }, async () => {
  const objects = new MemoryObjectStore(["inputs"]);
  const rows = ["id,qty", ...Array.from({ length: 400 }, (_, n) => `p${n},"${n}"`)];
  await objects.put("inputs", "stock.csv", `${rows.join("\r\n")}\r\n`);
  const stack = memoryStack({
    workflows: [mapOver("Csv", "{ bucket: inputs, key: stock.csv, format: csv, max_items: 300 }")],
    activities: { work: (row: { id: string; qty: string }) => `${row.id}:${row.qty}` },
    objects,
    batches: true,
  });
  await stack.runtime.startExecution("Csv", {}, { id: "c-1" });
  await stack.drain();
  const done = await stack.execution("c-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  const data = (await stack.runtime.codec.load(done.thread.data)) as { out: string[] };
  assert.deepEqual(
    data.out,
    Array.from({ length: 300 }, (_, n) => `p${n}:${n}`),
  );
});

test("a missing object and a bad line are Cascade.ItemReaderFailed naming the object and line, through the Map's catch", {
  timeout: 60_000,
}, async () => {
  const objects = new MemoryObjectStore(["inputs"]);
  await objects.put("inputs", "bad.jsonl", '{"n":1}\n{"n":2}\n{"n":\n');
  const stack = memoryStack({
    workflows: [
      mapOver("Missing", "{ bucket: inputs, key: nowhere.jsonl, format: jsonl }"),
      mapOver("Bad", "{ bucket: inputs, key: bad.jsonl, format: jsonl }"),
    ],
    activities: { work: (n: unknown) => n },
    objects,
    batches: true,
  });
  await stack.runtime.startExecution("Missing", {}, { id: "m-1" });
  await stack.runtime.startExecution("Bad", {}, { id: "b-1" });
  await stack.drain();
  for (const [id, pattern] of [
    ["m-1", /s3:\/\/inputs\/nowhere\.jsonl/],
    ["b-1", /s3:\/\/inputs\/bad\.jsonl line 3/],
  ] as const) {
    const done = await stack.execution(id);
    assert.equal(done?.thread.status, "succeeded", id);
    assert.ok(done);
    const data = (await stack.runtime.codec.load(done.thread.data)) as {
      error: { name: string; message: string };
    };
    assert.equal(data.error.name, "Cascade.ItemReaderFailed", id);
    assert.match(data.error.message, pattern, id);
  }
});

test("result_writer: 1,200 results in parts, in item order, and a manifest in the data", {
  timeout: 120_000,
}, async () => {
  const objects = new MemoryObjectStore(["inputs", "results"]);
  await objects.put(
    "inputs",
    "all.json",
    JSON.stringify(Array.from({ length: 1_200 }, (_, n) => n)),
  );
  const stack = memoryStack({
    workflows: [
      mapOver(
        "Written",
        "{ bucket: inputs, key: all.json, format: json }",
        '    result_writer: { bucket: results, key_prefix: "runs/{{ $.run }}" }\n    tolerated_failures: 10',
      ),
    ],
    activities: {
      work: (n: number) => {
        if (n === 7) throw Object.assign(new Error("seven"), { name: "Broken", retryable: false });
        return { n, square: n * n };
      },
    },
    objects,
    batches: true,
  });
  await stack.runtime.startExecution("Written", { run: "r1" }, { id: "w-1" });
  await stack.drain();
  const done = await stack.execution("w-1");
  assert.equal(done?.thread.status, "succeeded", JSON.stringify(done?.thread.error));
  assert.ok(done);
  const data = (await stack.runtime.codec.load(done.thread.data)) as {
    out: { result_writer: { manifest_key: string; parts: number }; counts: Record<string, number> };
  };
  assert.deepEqual(data.out.counts, { total: 1_200, succeeded: 1_199, failed: 1, cancelled: 0 });
  assert.equal(data.out.result_writer.parts, 2);
  const manifest = JSON.parse(
    await read(objects, "results", data.out.result_writer.manifest_key),
  ) as {
    parts: string[];
  };
  const results: { index: number; status: string; output?: { square: number } }[] = [];
  for (const key of manifest.parts)
    results.push(
      ...(JSON.parse(await read(objects, "results", key)) as { results: typeof results }).results,
    );
  assert.deepEqual(
    results.map((r) => r.index),
    Array.from({ length: 1_200 }, (_, n) => n),
  );
  assert.equal(results[7]?.status, "failed");
  assert.equal(results[30]?.output?.square, 900);
});
