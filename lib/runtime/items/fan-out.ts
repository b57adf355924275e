/**
 * A Map's `item_reader` in the runtime: `read-items` messages read the object a page at
 * a time (`readItemsPage`, a byte range each, never the whole object) into pages of the
 * payload store, then answer the waiting thread with `ItemsRead` (the pages, or the
 * reader's coded error); the Map then fans out over the pages on a wide join, whose
 * item starts read item i from its page (`itemOf`). No invocation holds more than a
 * page of items.
 */
import { createHash } from "node:crypto";
import { ERRORS, type ItemPages, type ThreadEvent } from "../../core/engine/index.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import type { ExecutionHeader, OutMessage, WireMessage } from "../../core/ports.ts";
import { payloadPrefix } from "../codec.ts";
import { applyEvent } from "../commit.ts";
import type { RuntimeContext } from "../context.ts";
import { RuntimeError } from "../errors.ts";
import { TRANSITIONS, type Work } from "../unit-of-work.ts";
import { ItemReaderError } from "./errors.ts";
import { type ItemCursor, readItemsPage } from "./reader.ts";

type ReadItems = Extract<WireMessage, { kind: "read-items" }>;

/** Where a Map activation's item pages live. */
export function pagesPrefix(
  header: ExecutionHeader,
  token: { thread: string; step: number },
): string {
  const digest = createHash("sha256")
    .update(`${token.thread}#${token.step}`)
    .digest("hex")
    .slice(0, 32);
  return `${payloadPrefix(header)}items/${digest}/`;
}

/** The message that reads page `page` of a Map's object. */
export function readItemsMessage(body: Omit<ReadItems, "kind">): OutMessage {
  return {
    mid: `${body.token.thread}#${body.token.step}!items${body.page}`,
    queue: TRANSITIONS,
    body: { kind: "read-items", ...body },
  };
}

/** Reads one page of a Map's object, then the next page or the answer to the thread. */
export async function readItems(
  rt: RuntimeContext,
  work: Work,
  mid: string,
  body: ReadItems,
): Promise<void> {
  const { header, token } = body;
  const objects = rt.deps.objects;
  const answer = (event: ThreadEvent) =>
    applyEvent(rt, work, header, token.thread, event, mid).then(() => undefined);
  if (!objects) {
    return answer({
      type: "ItemsRead",
      token,
      error: {
        name: ERRORS.ITEM_READER_FAILED,
        message: "this runtime has no object store for item_reader",
      },
    });
  }
  // A thread that moved on (cancelled, timed out) needs no more pages.
  const thread = await rt.store.getThread(header, token.thread);
  if (!thread || thread.thread.step !== token.step || thread.thread.waiting?.kind !== "items")
    return;
  let page: { items: JsonValue[]; next?: ItemCursor };
  try {
    page = await readItemsPage(objects, body.source, body.cursor as unknown as ItemCursor);
  } catch (error) {
    if (error instanceof ItemReaderError)
      return answer({ type: "ItemsRead", token, error: error.workflowError });
    throw error;
  }
  const prefix = pagesPrefix(header, token);
  const cursor = body.cursor as unknown as ItemCursor;
  const starts = [...body.starts];
  if (page.items.length > 0) {
    await rt.deps.payloads.put(`${prefix}${starts.length}.json`, JSON.stringify(page.items));
    starts.push(cursor.index);
  }
  const max = body.source.maxItems;
  const read = cursor.index + page.items.length;
  if (page.next && (max === undefined || read < max)) {
    work.dispatch([
      readItemsMessage({
        header,
        token,
        source: body.source,
        page: body.page + 1,
        cursor: page.next as unknown as JsonValue,
        starts,
      }),
    ]);
    return;
  }
  const total = max === undefined ? read : Math.min(read, max);
  const pages: ItemPages = { prefix, starts, total };
  return answer({ type: "ItemsRead", token, pages });
}

/** Item `index` of a paged Map: from its page (the codec keeps recent pages). */
export async function itemOf(
  rt: RuntimeContext,
  pages: ItemPages,
  index: number,
): Promise<JsonValue> {
  let lo = 0;
  let hi = pages.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((pages.starts[mid] ?? 0) <= index) lo = mid;
    else hi = mid - 1;
  }
  const first = pages.starts[lo];
  if (first === undefined || index >= pages.total)
    throw new RuntimeError("BAD_MESSAGE", `item ${index} is past the Map's ${pages.total} items`);
  const items = await rt.codec.load({ ref: `${pages.prefix}${lo}.json`, bytes: 0 });
  return (items as JsonValue[])[index - first] ?? null;
}

/** The stored inputs of a paged Map's join. */
export function isPaged(inputs: JsonValue): inputs is { pages: ItemPages } & JsonValue {
  return (
    typeof inputs === "object" && inputs !== null && !Array.isArray(inputs) && "pages" in inputs
  );
}
