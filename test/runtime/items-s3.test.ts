/**
 * The item reader and result writer on S3 (fauxqs, the local stack's embedded S3, on
 * its worker thread as `cascade dev` runs it): the ObjectStore contract, and a
 * 1,000,000-line JSON Lines object read page by page with bounded memory, its results
 * written back in parts.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type AwsClients, createAwsClients } from "../../lib/adapters/aws/clients.ts";
import { S3ObjectStore } from "../../lib/adapters/aws/s3-objects.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { startEmulatorThread } from "../../lib/local/emulator-thread.ts";
import type { Emulators } from "../../lib/local/emulators.ts";
import {
  type ItemCursor,
  readItemsPage,
  START_CURSOR,
  writeResultManifest,
  writeResultPart,
} from "../../lib/runtime/items/index.ts";
import { objectStoreContract } from "./items.contract.ts";

const BUCKET = "items-test";
let emulators: Emulators;
let clients: AwsClients;
let store: S3ObjectStore;

before(async () => {
  try {
    emulators = await startEmulatorThread({ ephemeral: true });
  } catch (error) {
    throw new Error(
      `could not start the embedded emulators (fauxqs): ${(error as Error).message}. Run npm ci with Node 24 (node_modules/.bin/node).`,
      { cause: error },
    );
  }
  clients = createAwsClients({ endpoints: emulators.endpoints });
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  store = new S3ObjectStore(clients.s3);
});
after(async () => {
  clients?.destroy();
  await emulators?.close();
});

objectStoreContract("S3 (fauxqs)", () => ({ store, bucket: BUCKET }));

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const MB = 1024 * 1024;

/** A JSON Lines object of `count` lines: `{"i":…,"sku":"SKU-…","qty":…}`. */
function jsonLines(count: number): Buffer {
  const chunks: Buffer[] = [];
  for (let start = 0; start < count; start += 10_000) {
    let text = "";
    for (let i = start; i < Math.min(count, start + 10_000); i++) {
      text += `{"i":${i},"sku":"SKU-${String(i).padStart(7, "0")}","qty":${i % 97}}\n`;
    }
    chunks.push(Buffer.from(text));
  }
  return Buffer.concat(chunks);
}

/**
 * Puts a `count`-line object, reads it page by page (1,000 items, 4 MiB ranges), and
 * checks the count, the first and last items and that the heap did not grow with the
 * object; writes each page's results as a part, then the manifest.
 */
async function bigRun(count: number, t: { diagnostic(message: string): void }): Promise<void> {
  const key = `big/${count}.jsonl`;
  let body: Buffer | undefined = jsonLines(count);
  const size = body.byteLength;
  await store.put(BUCKET, key, body, { contentType: "application/x-ndjson" });
  body = undefined;
  assert.equal((await store.head(BUCKET, key))?.size, size);

  gc();
  const baseline = process.memoryUsage().heapUsed;
  let peakHeap = 0;
  let peakRss = 0;
  const started = performance.now();
  const source = { bucket: BUCKET, key, format: "jsonl" as const };
  const target = { bucket: BUCKET, keyPrefix: `results/${count}` };
  let cursor: ItemCursor | undefined = START_CURSOR;
  let total = 0;
  let parts = 0;
  let first: JsonValue | undefined;
  let last: JsonValue | undefined;
  let pages = 0;
  let readMs = 0;
  let peakLive = 0;
  while (cursor) {
    const reading = performance.now();
    const page = await readItemsPage(store, source, cursor);
    readMs += performance.now() - reading;
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed - baseline);
    if (first === undefined) first = page.items[0];
    last = page.items[page.items.length - 1];
    assert.equal(page.items.length, Math.min(1_000, count - total), `page ${pages} is full`);
    await writeResultPart(
      store,
      target,
      parts++,
      page.items.map((item, i) => ({
        index: total + i,
        status: "succeeded" as const,
        output: (item as { qty: number }).qty,
      })),
    );
    total += page.items.length;
    cursor = page.next;
    if (++pages % 50 === 0) {
      gc();
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - baseline);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
  }
  const ref = await writeResultManifest(store, target, {
    parts,
    total,
    succeeded: total,
    failed: 0,
  });
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(
    `${count} lines (${(size / MB).toFixed(1)} MiB), ${pages} pages and ${parts} parts in ${seconds.toFixed(1)} s (reading ${(readMs / 1000).toFixed(1)} s); heap above the baseline: at most ${(peakHeap / MB).toFixed(1)} MiB retained (after GC), ${(peakLive / MB).toFixed(1)} MiB with garbage; peak RSS ${(peakRss / MB).toFixed(0)} MiB (fauxqs on its thread included)`,
  );
  assert.equal(total, count);
  assert.deepEqual(first, { i: 0, sku: "SKU-0000000", qty: 0 });
  assert.deepEqual(last, {
    i: count - 1,
    sku: `SKU-${String(count - 1).padStart(7, "0")}`,
    qty: (count - 1) % 97,
  });
  assert.equal(pages, Math.ceil(count / 1_000));
  assert.deepEqual(ref.counts, { total: count, succeeded: count, failed: 0, cancelled: 0 });
  assert.ok(
    peakHeap < 16 * MB,
    `the heap grew by ${(peakHeap / MB).toFixed(1)} MiB reading a ${(size / MB).toFixed(1)} MiB object`,
  );
  const lastPart = `results/${count}/parts/${String(parts - 1).padStart(6, "0")}.json`;
  const info = await store.head(BUCKET, lastPart);
  assert.ok(info);
  const tail = JSON.parse(
    new TextDecoder().decode(await store.getRange(BUCKET, lastPart, 0, info.size)),
  ) as { last_index: number; results: { index: number; output: number }[] };
  assert.equal(tail.last_index, count - 1);
  assert.deepEqual(tail.results.at(-1), {
    index: count - 1,
    status: "succeeded",
    output: (count - 1) % 97,
  });
}

// About 15 s on a 2-core machine (well under a minute), so it runs in `npm test`.
test("S3 (fauxqs): a 1,000,000-line JSON Lines object, page by page, heap bounded, results in parts", async (t) => {
  await bigRun(1_000_000, t);
});
