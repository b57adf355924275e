/**
 * A Map's items from S3 and results to S3, through the ObjectStore port: the paged
 * reader (`readItemsPage`) and the result writer (`writeResultPart`,
 * `writeResultManifest`). The engine evaluates the locations
 * (`resolveItemSource`, `resolveResultLocation` in lib/core/engine).
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
