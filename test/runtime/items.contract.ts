/**
 * The ObjectStore contract, and the item reader and result writer over it: every
 * adapter passes the same suite (memory, and S3 on fauxqs).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ItemSource } from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { ObjectNotFoundError, type ObjectStore } from "../../lib/core/ports.ts";
import {
  type ItemCursor,
  ItemReaderError,
  manifestKey,
  type PageLimits,
  partKey,
  readItemsPage,
  START_CURSOR,
  writeResultManifest,
  writeResultPart,
} from "../../lib/runtime/items/index.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Every item of an object, page by page; also the pages' sizes and cursors. */
export async function readAll(
  store: ObjectStore,
  source: ItemSource,
  limits: PageLimits,
): Promise<{ items: JsonValue[]; pages: number[]; cursors: ItemCursor[] }> {
  const items: JsonValue[] = [];
  const pages: number[] = [];
  const cursors: ItemCursor[] = [];
  let cursor: ItemCursor | undefined = START_CURSOR;
  while (cursor) {
    const page = await readItemsPage(store, source, cursor, limits);
    assert.equal(page.items.length <= limits.maxItems, true, "a page holds at most maxItems");
    if (page.next) {
      assert.equal(page.next.index, cursor.index + page.items.length);
      // The cursor is plain JSON: it survives a message.
      assert.deepEqual(JSON.parse(JSON.stringify(page.next)), page.next);
      cursors.push(page.next);
    }
    for (const item of page.items) items.push(item);
    pages.push(page.items.length);
    cursor = page.next;
  }
  return { items, pages, cursors };
}

/** Reads and returns the ItemReaderError a read raises. */
export async function readerError(
  store: ObjectStore,
  source: ItemSource,
  limits: PageLimits = { maxItems: 1000, maxBytes: 1 << 20 },
): Promise<ItemReaderError> {
  try {
    await readAll(store, source, limits);
  } catch (error) {
    assert.ok(
      error instanceof ItemReaderError,
      `expected an ItemReaderError, got ${String(error)}`,
    );
    assert.equal(error.name, "Cascade.ItemReaderFailed");
    assert.equal(error.workflowError.retryable, false);
    return error;
  }
  assert.fail("the read should have failed");
}

export function objectStoreContract(
  name: string,
  setup: () => { store: ObjectStore; bucket: string },
): void {
  const put = (key: string, body: string) => {
    const { store, bucket } = setup();
    return store.put(bucket, key, body);
  };

  test(`${name}: head, ranges and put`, async () => {
    const { store, bucket } = setup();
    assert.equal(await store.head(bucket, "nothing/here"), undefined);
    await store.put(bucket, "a/b.txt", "héllo world");
    assert.equal((await store.head(bucket, "a/b.txt"))?.size, 12);
    assert.equal(text(await store.getRange(bucket, "a/b.txt", 0, 3)), "hé");
    assert.equal(
      text(await store.getRange(bucket, "a/b.txt", 7, 100)),
      "world",
      "clamped to the end",
    );
    await store.put(bucket, "a/b.txt", new TextEncoder().encode("bytes"));
    assert.equal(text(await store.getRange(bucket, "a/b.txt", 0, 5)), "bytes", "overwritten");
    await assert.rejects(store.getRange(bucket, "nothing/here", 0, 1), ObjectNotFoundError);
    await assert.rejects(store.getRange("no-such-bucket-x", "k", 0, 1), ObjectNotFoundError);
    assert.equal(await store.head("no-such-bucket-x", "k"), undefined);
  });

  test(`${name}: each format, page by page, with records cut by the range's end`, async () => {
    const { store, bucket } = setup();
    const values: JsonValue[] = [
      { id: 1, name: 'ä, "quoted"' },
      [1, [2, { "]": "}" }]],
      'a string with \\ and " and ,',
      -12.5e3,
      true,
      null,
      { nested: { deep: ["x", "y"] }, emoji: "🚀" },
    ];
    await put(
      "f/items.json",
      `\ufeff [\n  ${values.map((v) => JSON.stringify(v, null, 1)).join(" ,\n  ")}\n]\n `,
    );
    await put("f/items.jsonl", `${values.map((v) => JSON.stringify(v)).join("\r\n")}\n\n   \n`);
    await put("f/empty.json", "[ ]");
    await put("f/empty.jsonl", "");
    const csv = 'id,name,note\r\n1,"Smith, Jo","said ""hi""\nand left"\n\n2,Ann,5" screen\n3,"",\n';
    await put("f/items.csv", csv);
    await put("f/headless.csv", "1,a\n2,b");
    const csvRows = [
      { id: "1", name: "Smith, Jo", note: 'said "hi"\nand left' },
      { id: "2", name: "Ann", note: '5" screen' },
      { id: "3", name: "", note: "" },
    ];
    const largest = Math.max(...values.map((v) => Buffer.byteLength(JSON.stringify(v, null, 1))));
    for (const maxBytes of [largest + 4, largest + 17, largest * 2, 1 << 20]) {
      for (const maxItems of [1, 2, 1000]) {
        const limits = { maxItems, maxBytes };
        const json = await readAll(store, { bucket, key: "f/items.json", format: "json" }, limits);
        assert.deepEqual(json.items, values, `json at ${maxBytes}/${maxItems}`);
        const jsonl = await readAll(
          store,
          { bucket, key: "f/items.jsonl", format: "jsonl" },
          limits,
        );
        assert.deepEqual(jsonl.items, values, `jsonl at ${maxBytes}/${maxItems}`);
        const rows = await readAll(
          store,
          { bucket, key: "f/items.csv", format: "csv", csvHeader: true },
          limits,
        );
        assert.deepEqual(rows.items, csvRows, `csv at ${maxBytes}/${maxItems}`);
      }
    }
    const named = await readAll(
      store,
      { bucket, key: "f/headless.csv", format: "csv", csvHeader: ["n", "letter"] },
      { maxItems: 1, maxBytes: 4 },
    );
    assert.deepEqual(named.items, [
      { n: "1", letter: "a" },
      { n: "2", letter: "b" },
    ]);
    assert.equal(named.cursors[0]?.header, undefined, "given names stay out of the cursor");
    for (const [key, format] of [
      ["f/empty.json", "json"],
      ["f/empty.jsonl", "jsonl"],
    ] as const) {
      assert.deepEqual(
        (await readAll(store, { bucket, key, format }, { maxItems: 5, maxBytes: 8 })).items,
        [],
      );
    }
    const capped = await readAll(
      store,
      { bucket, key: "f/items.jsonl", format: "jsonl", maxItems: 3 },
      { maxItems: 2, maxBytes: 1 << 20 },
    );
    assert.deepEqual(capped.items, values.slice(0, 3), "max_items stops the reader");
    assert.deepEqual(capped.pages, [2, 1]);
  });

  test(`${name}: a missing object and bad records name the object and the line`, async () => {
    const { store, bucket } = setup();
    const missing = await readerError(store, { bucket, key: "f/missing.jsonl", format: "jsonl" });
    assert.equal(missing.reason, "NoSuchObject");
    assert.match(missing.message, new RegExp(`s3://${bucket}/f/missing\\.jsonl`));
    assert.equal(missing.bucket, bucket);
    assert.equal(missing.key, "f/missing.jsonl");

    await put("f/bad.jsonl", '{"a":1}\n\n{"b":2}\n{"c":\n{"d":4}\n');
    const bad = await readerError(store, { bucket, key: "f/bad.jsonl", format: "jsonl" });
    assert.equal(bad.reason, "Unparsable");
    assert.equal(bad.line, 4);
    assert.match(bad.message, /f\/bad\.jsonl line 4: not valid JSON/);
    // Found on a later page too, with the same line.
    const later = await readerError(
      store,
      { bucket, key: "f/bad.jsonl", format: "jsonl" },
      { maxItems: 1, maxBytes: 9 },
    );
    assert.equal(later.line, 4);

    const cases: [string, string, ItemSource["format"], number, RegExp][] = [
      ["f/bad1.json", '[{"a":1},\n{"b":2}\n{"c":3}]', "json", 3, /expected , or \]/],
      ["f/bad2.json", "[1,2,]", "json", 1, /trailing comma/],
      ["f/bad3.json", "[1,\n2", "json", 2, /not complete|not closed/],
      ["f/bad4.json", '{"not":"an array"}', "json", 1, /expected a JSON array/],
      ["f/bad5.json", "[1]\n\nx", "json", 3, /after the JSON array/],
      ["f/bad6.json", '[\n1,\n{"a":tru}]', "json", 3, /not valid JSON/],
      ["f/bad7.json", "", "json", 1, /empty/],
      ["f/bad1.csv", "a,b\n1,2\n3\n", "csv", 3, /1 field\(s\); the header has 2/],
      ["f/bad2.csv", 'a,b\n1,"x"y\n', "csv", 2, /closing quote/],
      ["f/bad3.csv", 'a,b\n1,2\n"open,3\n4,5\n', "csv", 3, /not closed/],
      ["f/bad4.csv", "a,a\n1,2\n", "csv", 1, /twice/],
    ];
    for (const [key, body, format, line, message] of cases) {
      await put(key, body);
      for (const maxBytes of [3, 1 << 20]) {
        const error = await readerError(
          store,
          { bucket, key, format, csvHeader: true },
          { maxItems: 10, maxBytes },
        );
        assert.equal(error.reason === "Unparsable" || error.reason === "RecordTooLarge", true);
        if (maxBytes > 3) {
          assert.equal(error.reason, "Unparsable", key);
          assert.equal(error.line, line, `${key}: ${error.message}`);
          assert.match(error.message, message, key);
        }
      }
    }
    const { store: s, bucket: b } = setup();
    await s.put(b, "f/latin1.jsonl", new Uint8Array([0x22, 0xe9, 0x22, 0x0a]));
    assert.equal(
      (await readerError(s, { bucket: b, key: "f/latin1.jsonl", format: "jsonl" })).reason,
      "InvalidUtf8",
    );
  });

  test(`${name}: a record over maxBytes is RecordTooLarge; a changed object is ObjectChanged`, async () => {
    const { store, bucket } = setup();
    await put("f/long.jsonl", `1\n${JSON.stringify("x".repeat(100))}\n3\n`);
    const error = await readerError(
      store,
      { bucket, key: "f/long.jsonl", format: "jsonl" },
      { maxItems: 10, maxBytes: 50 },
    );
    assert.equal(error.reason, "RecordTooLarge");
    assert.equal(error.line, 2);
    assert.match(error.message, /larger than 50 bytes/);

    await put("f/changing.jsonl", "1\n2\n3\n");
    const source: ItemSource = { bucket, key: "f/changing.jsonl", format: "jsonl" };
    const first = await readItemsPage(store, source, START_CURSOR, { maxItems: 1, maxBytes: 100 });
    assert.deepEqual(first.items, [1]);
    assert.ok(first.next);
    const changed = (e: unknown) => {
      assert.ok(e instanceof ItemReaderError);
      assert.equal(e.reason, "ObjectChanged");
      return true;
    };
    await put("f/changing.jsonl", "7\n8\n9\n");
    await assert.rejects(readItemsPage(store, source, first.next), changed, "same size, new ETag");
    await put("f/changing.jsonl", "9\n");
    await assert.rejects(readItemsPage(store, source, first.next), changed, "shorter");
  });

  test(`${name}: result parts in item order and a manifest`, async () => {
    const { store, bucket } = setup();
    const target = { bucket, keyPrefix: "runs/e1/Each" };
    const first = await writeResultPart(store, target, 0, [
      { index: 1, status: "failed", error: { name: "Boom", message: "no" } },
      { index: 0, status: "succeeded", output: { n: 0 } },
      { index: 2, status: "succeeded", output: null },
    ]);
    assert.deepEqual(
      { ...first, bytes: 0 },
      {
        part: 0,
        key: "runs/e1/Each/parts/000000.json",
        firstIndex: 0,
        lastIndex: 2,
        count: 3,
        succeeded: 2,
        failed: 1,
        bytes: 0,
      },
    );
    const second = await writeResultPart(store, target, 1, [{ index: 3, status: "cancelled" }]);
    assert.equal(second.key, partKey(target, 1));
    const read = async (key: string) => {
      const size = (await store.head(bucket, key))?.size ?? 0;
      return JSON.parse(text(await store.getRange(bucket, key, 0, size))) as Record<
        string,
        JsonValue
      >;
    };
    const part0 = await read(first.key);
    assert.equal(part0.format, "cascade.map-results/1");
    assert.deepEqual(part0.results, [
      { index: 0, status: "succeeded", output: { n: 0 } },
      { index: 1, status: "failed", error: { name: "Boom", message: "no" } },
      { index: 2, status: "succeeded", output: null },
    ]);
    assert.equal((await store.head(bucket, first.key))?.size, first.bytes);
    const ref = await writeResultManifest(store, target, {
      parts: 2,
      total: 4,
      succeeded: 2,
      failed: 1,
    });
    assert.deepEqual(ref, {
      result_writer: {
        bucket,
        key_prefix: "runs/e1/Each",
        manifest_key: "runs/e1/Each/manifest.json",
        parts: 2,
      },
      counts: { total: 4, succeeded: 2, failed: 1, cancelled: 1 },
    });
    assert.deepEqual(await read(manifestKey(target)), {
      format: "cascade.map-results/1",
      bucket,
      key_prefix: "runs/e1/Each",
      total: 4,
      succeeded: 2,
      failed: 1,
      cancelled: 1,
      parts: ["runs/e1/Each/parts/000000.json", "runs/e1/Each/parts/000001.json"],
    });
    await assert.rejects(writeResultPart(store, target, 2, []), RangeError);
    await assert.rejects(
      writeResultPart(store, target, 2, [
        { index: 5, status: "cancelled" },
        { index: 5, status: "cancelled" },
      ]),
      /twice/,
    );
    await assert.rejects(
      writeResultManifest(store, target, { parts: 1, total: 1, succeeded: 1, failed: 1 }),
      RangeError,
    );
    await assert.rejects(
      writeResultPart(store, { bucket: "no-such-bucket-x", keyPrefix: "" }, 0, [
        { index: 0, status: "succeeded" },
      ]),
      (e: unknown) => (e as Error).name === "Cascade.ResultWriterFailed",
    );
  });
}
