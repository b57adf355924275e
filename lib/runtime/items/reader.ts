/**
 * Reads a Map's items from an S3 object a page at a time: a page is at most
 * `maxItems` items from at most about `maxBytes` of the object, read in byte ranges
 * sized from the items seen so far, and the cursor it returns says where the next page
 * starts. The object is never held whole; a record cut by a range's end is read again,
 * whole, by the next range (twice as long, if no record fitted), so the bytes read stay
 * within a small factor of the object's size and the work is linear in it.
 */
import type { ItemSource } from "../../core/engine/index.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import { ObjectNotFoundError, type ObjectStore } from "../../core/ports.ts";
import { scanCsv } from "./csv.ts";
import { ItemReaderError, type ItemReaderReason, isAccessDenied } from "./errors.ts";
import { type JsonPhase, type ScanInput, scanJsonArray, scanJsonLines } from "./scan.ts";

/**
 * Where the next page starts, and what the parser knows there. Plain JSON, small (a
 * CSV header at most): it rides in the fan-out's messages and records.
 */
export interface ItemCursor {
  /** Byte offset of the next record (or token, for a JSON array). */
  readonly offset: number;
  /** The index of the next item: how many items earlier pages gave. */
  readonly index: number;
  /** The 1-based line at `offset`. */
  readonly line: number;
  /** The object's size and ETag when the first page read it; later pages check them. */
  readonly size?: number;
  readonly etag?: string;
  /**
   * Bytes per item on the last page: sizes the next range to about `maxItems` items,
   * so a page reads little more than it parses.
   */
  readonly bytesPerItem?: number;
  /** json: where the array scan stands. */
  readonly json?: JsonPhase;
  /** csv: the column names, once known. */
  readonly header?: readonly string[];
}

/** The first page's cursor. */
export const START_CURSOR: ItemCursor = Object.freeze({ offset: 0, index: 0, line: 1 });

/** How much one page may hold. */
export interface PageLimits {
  /** Items per page (the fan-out's page; about 1,000). */
  readonly maxItems: number;
  /** Bytes per ranged read; also the largest record the reader accepts. */
  readonly maxBytes: number;
}

/** 1,000 items, 4 MiB ranges. */
export const DEFAULT_PAGE_LIMITS: PageLimits = Object.freeze({
  maxItems: 1_000,
  maxBytes: 4 * 1024 * 1024,
});

export interface ItemsPage {
  /** The page's items, in object order: item `cursor.index + i` is `items[i]`. */
  readonly items: JsonValue[];
  /** Absent on the last page. */
  readonly next?: ItemCursor;
}

const BOM = [0xef, 0xbb, 0xbf];
/** The first range, before the reader knows how large items are; it doubles while no record fits. */
const FIRST_RANGE_BYTES = 64 * 1024;

/**
 * Reads the page at `cursor` (`START_CURSOR` for the first).
 * @throws ItemReaderError (`Cascade.ItemReaderFailed`) for a missing object, a bad
 * record (naming its line), a record over `limits.maxBytes`, or an object that changed
 * between pages; the object store's own errors (throttling, network) as they are
 */
export async function readItemsPage(
  store: ObjectStore,
  source: ItemSource,
  cursor: ItemCursor,
  limits: PageLimits = DEFAULT_PAGE_LIMITS,
): Promise<ItemsPage> {
  if (!(limits.maxItems >= 1 && limits.maxBytes >= 1)) {
    throw new RangeError("readItemsPage: maxItems and maxBytes must be at least 1");
  }
  const where = { bucket: source.bucket, key: source.key };
  const fail = (reason: ItemReaderReason, line: number, detail: string): never => {
    throw new ItemReaderError(reason, { ...where, line }, detail);
  };
  const info = await guarded(source, () => store.head(source.bucket, source.key));
  if (info === undefined) {
    throw new ItemReaderError("NoSuchObject", where, "no such object (or bucket)");
  }
  if (cursor.size !== undefined && (info.size < cursor.size || info.etag !== cursor.etag)) {
    throw new ItemReaderError(
      "ObjectChanged",
      where,
      "the object changed while its items were being read",
    );
  }
  const size = cursor.size ?? info.size;
  const limit = Math.min(
    limits.maxItems,
    (source.maxItems ?? Number.MAX_SAFE_INTEGER) - cursor.index,
  );
  const items: JsonValue[] = [];
  let { offset, line } = cursor;
  let phase: JsonPhase = cursor.json ?? "open";
  let header = cursor.header ?? (Array.isArray(source.csvHeader) ? source.csvHeader : undefined);
  let finished = false;
  let pageBytes = 0;
  let want = 0;
  const bytesPerItem = cursor.bytesPerItem;

  while (items.length < limit) {
    if (offset >= size) {
      if (source.format === "json" && phase !== "done") {
        fail(
          "Unparsable",
          line,
          phase === "open"
            ? "the object is empty, not a JSON array"
            : "the JSON array is not closed",
        );
      }
      finished = true;
      break;
    }
    const remaining = limit - items.length;
    const perItem = pageBytes > 0 && items.length > 0 ? pageBytes / items.length : bytesPerItem;
    const estimate =
      perItem === undefined ? FIRST_RANGE_BYTES : Math.ceil(perItem * remaining * 1.125) + 256;
    want = Math.min(limits.maxBytes, Math.max(want, estimate));
    const end = Math.min(size, offset + want);
    let bytes = await readRange(store, source, offset, end);
    // Short of what was asked (never, from S3): then the range is not the object's end.
    const eof = offset + bytes.byteLength >= size;
    let skipped = 0;
    if (offset === 0 && BOM.every((b, i) => bytes[i] === b)) {
      skipped = BOM.length;
      bytes = bytes.subarray(skipped);
    }
    const input: ScanInput = {
      bytes,
      eof,
      line,
      max: limit - items.length,
      fail,
    };
    let consumed: number;
    switch (source.format) {
      case "jsonl": {
        const out = scanJsonLines(input);
        for (const item of out.items) items.push(item);
        consumed = out.consumed;
        line = out.line;
        break;
      }
      case "json": {
        const out = scanJsonArray({ ...input, phase });
        for (const item of out.items) items.push(item);
        consumed = out.consumed;
        line = out.line;
        phase = out.phase;
        break;
      }
      case "csv": {
        const out = scanCsv({ ...input, header });
        for (const item of out.items) items.push(item);
        consumed = out.consumed;
        line = out.line;
        header = out.header;
        break;
      }
      default: {
        const unknown: never = source.format;
        throw new Error(`unknown item format ${String(unknown)}`);
      }
    }
    if (consumed + skipped === 0) {
      if (want >= limits.maxBytes) {
        fail(
          "RecordTooLarge",
          line,
          `a record is larger than ${limits.maxBytes} bytes, the most one read takes`,
        );
      }
      // The record runs past this range: read again from its start, twice as far.
      want = Math.min(limits.maxBytes, want * 2);
      continue;
    }
    offset += consumed + skipped;
    pageBytes += consumed + skipped;
    want = 0;
    // A page's records span at most maxBytes of the object.
    if (pageBytes >= limits.maxBytes) break;
  }
  const index = cursor.index + items.length;
  if (finished || index >= (source.maxItems ?? Number.MAX_SAFE_INTEGER)) return { items };
  if (offset >= size && !(source.format === "json" && phase !== "done")) {
    return { items };
  }
  return {
    items,
    next: {
      offset,
      index,
      line,
      size,
      ...(items.length > 0
        ? { bytesPerItem: Math.ceil(pageBytes / items.length) }
        : bytesPerItem === undefined
          ? {}
          : { bytesPerItem }),
      ...(info.etag === undefined ? {} : { etag: info.etag }),
      ...(source.format === "json" ? { json: phase } : {}),
      ...(source.format === "csv" && header !== undefined && !Array.isArray(source.csvHeader)
        ? { header }
        : {}),
    },
  };
}

function readRange(
  store: ObjectStore,
  source: ItemSource,
  start: number,
  end: number,
): Promise<Uint8Array> {
  return guarded(source, () => store.getRange(source.bucket, source.key, start, end));
}

/** Runs one store call, turning the answers no retry fixes into an ItemReaderError. */
async function guarded<T>(source: ItemSource, call: () => Promise<T>): Promise<T> {
  const where = { bucket: source.bucket, key: source.key };
  try {
    return await call();
  } catch (error) {
    if (error instanceof ObjectNotFoundError) {
      throw new ItemReaderError("NoSuchObject", where, "no such object (or bucket)", {
        cause: error,
      });
    }
    if (isAccessDenied(error)) {
      throw new ItemReaderError(
        "AccessDenied",
        where,
        "access denied: the functions need s3:GetObject on the object (and s3:ListBucket on the bucket, or S3 answers 403 for a missing key too)",
        { cause: error },
      );
    }
    throw error;
  }
}
