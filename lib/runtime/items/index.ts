/**
 * A Map's items from S3 and results to S3, through the ObjectStore port
 * (`RuntimeDeps.objects`): the paged reader (`readItemsPage`) and the result writer
 * (`writeResultPart`, `writeResultManifest`). The engine evaluates the locations
 * (`resolveItemSource`, `resolveResultLocation` in lib/core/engine).
 *
 * How the fan-out uses them:
 * - The Map starts: `resolveItemSource(state.itemReader, evaluation, state.name)` gives
 *   the plain `ItemSource` (or the WorkflowError that fails the Map); the fan-out's
 *   first page message carries it with `START_CURSOR`.
 * - Each page message: `readItemsPage(objects, source, cursor)` gives up to 1,000 items,
 *   item `cursor.index + i` being `items[i]`, and `next` (plain JSON) for the next page
 *   message; no `next`: that was the last page, and the Map's width is
 *   `cursor.index + items.length` (a join over an object learns its total then).
 *   An `ItemReaderError` is the Map's failure (`error.workflowError`, through its
 *   catch); any other error is transient: let the message be delivered again.
 * - With `state.resultWriter`: each page of results, in item order, is
 *   `writeResultPart(objects, location, part, results)` (same part, same key and bytes:
 *   a redelivery rewrites it harmlessly), and at the end `writeResultManifest` returns
 *   what lands at the Map's `result` in place of the outputs.
 */
export { ItemReaderError, type ItemReaderReason } from "./errors.ts";
export {
  DEFAULT_PAGE_LIMITS,
  type ItemCursor,
  type ItemsPage,
  type PageLimits,
  readItemsPage,
  START_CURSOR,
} from "./reader.ts";
export {
  type ItemResult,
  manifestKey,
  type PartSummary,
  partKey,
  RESULT_FORMAT,
  type ResultManifestRef,
  ResultWriterError,
  writeResultManifest,
  writeResultPart,
} from "./writer.ts";
