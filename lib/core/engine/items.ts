/**
 * A Map's S3 locations once evaluated: the object its items come from
 * (`item_reader:`) and where its results go (`result_writer:`). Pure: the engine
 * evaluates the templates against the Map's data and hands the runtime plain values,
 * which lib/runtime/items reads and writes through the ObjectStore port.
 */
import { bucketNameProblem } from "../cdl/map-items.ts";
import type { ItemFormat } from "../cdl/schema.ts";
import type { ItemReaderSpec, ResultWriterSpec } from "../cdl/types.ts";
import {
  type EvaluationContext,
  ExpressionError,
  evaluateTemplate,
  type JsonValue,
  type Template,
} from "../expr/index.ts";
import { ERRORS, type WorkflowError } from "./types.ts";

/** The object a Map reads, evaluated. Plain JSON: it rides in commands and messages. */
export interface ItemSource {
  readonly bucket: string;
  readonly key: string;
  readonly format: ItemFormat;
  /** csv: `true` when the first row names the columns, or the names. */
  readonly csvHeader?: true | readonly string[];
  /** At most this many items from the start of the object. */
  readonly maxItems?: number;
}

/** Where a Map writes its results, evaluated: parts and the manifest go under `keyPrefix`. */
export interface ResultLocation {
  readonly bucket: string;
  readonly keyPrefix: string;
}

type Resolved<T> = { ok: true; value: T } | { ok: false; error: WorkflowError };

/**
 * Evaluates an `item_reader`'s bucket and key.
 * @returns `Cascade.ExpressionError` for a failing template; `Cascade.ItemReaderFailed`
 * for a bucket or key that is not a usable S3 name
 */
export function resolveItemSource(
  spec: ItemReaderSpec,
  context: EvaluationContext,
  state: string,
): Resolved<ItemSource> {
  const where = locate(
    spec.bucket,
    spec.key,
    context,
    state,
    ERRORS.ITEM_READER_FAILED,
    "item_reader",
  );
  if (!where.ok) return where;
  return {
    ok: true,
    value: {
      bucket: where.bucket,
      key: where.key,
      format: spec.format,
      ...(spec.csvHeader === undefined ? {} : { csvHeader: spec.csvHeader }),
      ...(spec.maxItems === undefined ? {} : { maxItems: spec.maxItems }),
    },
  };
}

/**
 * Evaluates a `result_writer`'s bucket and key prefix (a trailing `/` is dropped).
 * @returns `Cascade.ExpressionError` or `Cascade.ResultWriterFailed`, as `resolveItemSource`
 */
export function resolveResultLocation(
  spec: ResultWriterSpec,
  context: EvaluationContext,
  state: string,
): Resolved<ResultLocation> {
  const where = locate(
    spec.bucket,
    spec.keyPrefix,
    context,
    state,
    ERRORS.RESULT_WRITER_FAILED,
    "result_writer",
    true,
  );
  if (!where.ok) return where;
  return { ok: true, value: { bucket: where.bucket, keyPrefix: where.key.replace(/\/+$/, "") } };
}

function locate(
  bucketTemplate: Template,
  keyTemplate: Template,
  context: EvaluationContext,
  state: string,
  errorName: string,
  what: string,
  emptyKey = false,
): { ok: true; bucket: string; key: string } | { ok: false; error: WorkflowError } {
  let bucket: JsonValue;
  let key: JsonValue;
  try {
    bucket = evaluateTemplate(bucketTemplate, context);
    key = evaluateTemplate(keyTemplate, context);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    return {
      ok: false,
      error: { name: ERRORS.EXPRESSION_ERROR, message: `${state}: ${error.message}` },
    };
  }
  const fail = (message: string) => ({
    ok: false as const,
    error: { name: errorName, message: `${state}: ${what} ${message}`, retryable: false },
  });
  if (typeof bucket !== "string")
    return fail(`bucket gave ${JSON.stringify(bucket)}, not a string`);
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) return fail(`bucket: ${problem}`);
  if (typeof key !== "string") return fail(`key gave ${JSON.stringify(key)}, not a string`);
  if (key === "" && !emptyKey) return fail("key is empty");
  // S3's key limit (S3_KEY_LIMIT_BYTES in lib/manifest, which the pure core does not import).
  if (new TextEncoder().encode(key).byteLength > 1024) {
    return fail("key is longer than S3's 1024 bytes");
  }
  return { ok: true, bucket, key };
}
