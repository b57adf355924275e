/** The item reader and result writer on the memory ObjectStore (as the simulations use it). */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { AwsLimitError } from "../../lib/adapters/memory/limits.ts";
import { MemoryObjectStore } from "../../lib/adapters/memory/objects.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import type { ObjectStore } from "../../lib/core/ports.ts";
import { readItemsPage, START_CURSOR, writeResultPart } from "../../lib/runtime/items/index.ts";
import { objectStoreContract, readAll, readerError } from "./items.contract.ts";

const store = new MemoryObjectStore(["items"]);
objectStoreContract("memory", () => ({ store, bucket: "items" }));

test("memory: pages read byte ranges only, each byte about once", async () => {
  const lines = Array.from({ length: 5_000 }, (_, i) =>
    JSON.stringify({ i, pad: "x".repeat(i % 37) }),
  );
  const body = `${lines.join("\n")}\n`;
  const objects = new MemoryObjectStore(["b-1"]);
  await objects.put("b-1", "k.jsonl", body);
  const size = Buffer.byteLength(body);
  const read = await readAll(
    objects,
    { bucket: "b-1", key: "k.jsonl", format: "jsonl" },
    { maxItems: 100, maxBytes: 4096 },
  );
  assert.equal(read.items.length, 5_000);
  assert.deepEqual(read.items[4_999], { i: 4_999, pad: "x".repeat(4_999 % 37) });
  assert.ok(
    objects.calls.bytesRead < 2 * size,
    `${objects.calls.bytesRead} bytes read for ${size}`,
  );
  assert.ok(objects.calls.ranges >= size / 4096, "never more than maxBytes per range");
  // Ranges far larger than a page of items: the reader sizes them from the items seen.
  objects.calls.bytesRead = 0;
  const wide = await readAll(
    objects,
    { bucket: "b-1", key: "k.jsonl", format: "jsonl" },
    { maxItems: 100, maxBytes: 4 * 1024 * 1024 },
  );
  assert.equal(wide.items.length, 5_000);
  // About an eighth over per page, plus the first page's 64 KiB guess.
  assert.ok(
    objects.calls.bytesRead < 1.5 * size + 64 * 1024,
    `${objects.calls.bytesRead} bytes read for ${size}`,
  );
});

test("memory: S3's key limit and buckets that exist", async () => {
  const objects = new MemoryObjectStore(["b-1"]);
  await assert.rejects(objects.put("b-1", "k".repeat(1025), "x"), AwsLimitError);
  await assert.rejects(objects.put("b-2", "k", "x"), /no object s3:\/\/b-2\/k/);
  objects.createBucket("b-2");
  await objects.put("b-2", "k", "x");
  assert.equal(objects.text("b-2", "k"), "x");
});

/** RFC 4180 encoding of one field: quoted when it holds `,`, `"`, CR or LF (or at random). */
function csvField(value: string, quote: boolean): string {
  return quote || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

test("property: any cut of any object reads the same items as one read", async () => {
  const objects = new MemoryObjectStore(["p"]);
  const json = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
  const cell = fc.string({
    unit: fc.constantFrom("a", "é", "🚀", ",", '"', "\n", "\r\n", " ", "x"),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(json, { maxLength: 12 }),
      fc.array(fc.tuple(cell, cell, fc.boolean()), { maxLength: 12 }),
      fc.boolean(),
      fc.nat(40),
      fc.integer({ min: 1, max: 5 }),
      async (values, rows, crlf, slack, maxItems) => {
        const eol = crlf ? "\r\n" : "\n";
        const records = values.map((v) => JSON.stringify(v));
        await objects.put("p", "v.jsonl", records.join(eol));
        await objects.put("p", "v.json", `[${records.join(`,${eol} `)}]`);
        const csvRecords = [
          "left,right",
          ...rows.map(([l, r, q]) => `${csvField(l, q)},${csvField(r, !q && r === "")}`),
        ];
        await objects.put("p", "v.csv", csvRecords.join(eol) + (crlf ? eol : ""));
        const longest = Math.max(
          1,
          ...[...records, ...csvRecords].map((r) => Buffer.byteLength(r)),
        );
        const limits = { maxItems, maxBytes: longest + 4 + slack };
        const jsonl = await readAll(
          objects,
          { bucket: "p", key: "v.jsonl", format: "jsonl" },
          limits,
        );
        const array = await readAll(
          objects,
          { bucket: "p", key: "v.json", format: "json" },
          limits,
        );
        // JSON.parse turns -0 into 0 once it has been through text; compare as text.
        const expected = JSON.parse(JSON.stringify(values));
        assert.deepEqual(jsonl.items, expected);
        assert.deepEqual(array.items, expected);
        const csv = await readAll(
          objects,
          { bucket: "p", key: "v.csv", format: "csv", csvHeader: true },
          limits,
        );
        assert.deepEqual(
          csv.items,
          rows.map(([left, right]) => ({ left, right })),
        );
      },
    ),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
  );
});

test("access denied is a coded error; throttling and network errors propagate for redelivery", async () => {
  const objects = new MemoryObjectStore(["b-1"]);
  await objects.put("b-1", "k.jsonl", "1\n2\n");
  const failing = (name: string, status: number, on: "head" | "getRange" | "put"): ObjectStore => ({
    head: (b, k) => (on === "head" ? Promise.reject(s3Error(name, status)) : objects.head(b, k)),
    getRange: (b, k, s, e) =>
      on === "getRange" ? Promise.reject(s3Error(name, status)) : objects.getRange(b, k, s, e),
    put: (b, k, body) =>
      on === "put" ? Promise.reject(s3Error(name, status)) : objects.put(b, k, body),
  });
  const source = { bucket: "b-1", key: "k.jsonl", format: "jsonl" as const };
  for (const on of ["head", "getRange"] as const) {
    const denied = await readerError(failing("AccessDenied", 403, on), source);
    assert.equal(denied.reason, "AccessDenied");
    assert.match(denied.message, /s3:\/\/b-1\/k\.jsonl: access denied.*s3:ListBucket/);
    await assert.rejects(readItemsPage(failing("SlowDown", 503, on), source, START_CURSOR), {
      name: "SlowDown",
    });
  }
  const target = { bucket: "b-1", keyPrefix: "out" };
  const one = [{ index: 0, status: "succeeded" as const, output: 1 }];
  await assert.rejects(writeResultPart(failing("Forbidden", 403, "put"), target, 0, one), {
    name: "Cascade.ResultWriterFailed",
  });
  await assert.rejects(writeResultPart(failing("InternalError", 500, "put"), target, 0, one), {
    name: "InternalError",
  });
});

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}
