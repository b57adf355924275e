/**
 * Writes a Map's results to S3 (`result_writer:`): one JSON object per part, each a
 * run of results in item order, and at the end a manifest listing the parts. The
 * Map's output in the data is then the small object `writeResultManifest` returns,
 * not the results. Keys are fixed by the part number, and a part's body by its
 * results, so a redelivered write puts the same bytes at the same key.
 *
 * Modelled on Step Functions' ResultWriter (`manifest.json` and result files under
 * a prefix); the keys and fields are CDL's snake_case.
 */
import { ERRORS, type ResultLocation, type WorkflowError } from "../../core/engine/index.ts";
import type { JsonValue } from "../../core/expr/index.ts";
import { ObjectNotFoundError, type ObjectStore } from "../../core/ports.ts";
import { isAccessDenied } from "./errors.ts";

/** One item's end, as a part records it. */
export interface ItemResult {
  readonly index: number;
  readonly status: "succeeded" | "failed" | "cancelled";
  /** Succeeded items: the iteration's output. */
  readonly output?: JsonValue;
  /** Failed items: the error. */
  readonly error?: WorkflowError;
}

/** What a written part holds; small, for the caller's bookkeeping. */
export interface PartSummary {
  readonly part: number;
  readonly key: string;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly count: number;
  readonly succeeded: number;
  readonly failed: number;
  /** The part's size in bytes (UTF-8). */
  readonly bytes: number;
}

/** The Map's output with a result writer: where the results are, and how many of each. */
export interface ResultManifestRef {
  readonly result_writer: {
    readonly bucket: string;
    readonly key_prefix: string;
    readonly manifest_key: string;
    readonly parts: number;
  };
  readonly counts: {
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
    /** Items that neither succeeded nor failed (cancelled when the Map stopped early). */
    readonly cancelled: number;
  };
}

/** The version tag of a part's and the manifest's layout. */
export const RESULT_FORMAT = "cascade.map-results/1";

/**
 * A result writer could not write to its location for good (no such bucket, access
 * denied): `Cascade.ResultWriterFailed`, not retryable, naming the object. Transient
 * S3 failures propagate as they are, so the message is delivered again.
 */
export class ResultWriterError extends Error {
  readonly bucket: string;
  readonly key: string;
  constructor(bucket: string, key: string, detail: string, options?: { cause?: unknown }) {
    super(`s3://${bucket}/${key}: ${detail}`, options);
    this.name = ERRORS.RESULT_WRITER_FAILED;
    this.bucket = bucket;
    this.key = key;
  }

  get workflowError(): WorkflowError {
    return { name: ERRORS.RESULT_WRITER_FAILED, message: this.message, retryable: false };
  }
}

const join = (prefix: string, rest: string): string => (prefix === "" ? rest : `${prefix}/${rest}`);

/** The key of part `part`: `<prefix>/parts/000042.json` (zero-padded, so listing order is item order). */
export function partKey(target: ResultLocation, part: number): string {
  return join(target.keyPrefix, `parts/${String(part).padStart(6, "0")}.json`);
}

/** The manifest's key: `<prefix>/manifest.json`. */
export function manifestKey(target: ResultLocation): string {
  return join(target.keyPrefix, "manifest.json");
}

/** S3's answers that no retry fixes. */
const PERMANENT = new Set(["NoSuchBucket", "InvalidBucketName", "KeyTooLongError"]);

async function put(store: ObjectStore, bucket: string, key: string, body: string): Promise<void> {
  try {
    await store.put(bucket, key, body, { contentType: "application/json" });
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    if (
      error instanceof ObjectNotFoundError ||
      isAccessDenied(error) ||
      (typeof name === "string" && PERMANENT.has(name))
    ) {
      throw new ResultWriterError(bucket, key, `cannot write the Map's results (${String(name)})`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Writes part `part` (0, 1, …): `results` in item order (they are sorted by index
 * here), as `{format, part, first_index, last_index, count, succeeded, failed, results}`.
 * @throws RangeError for a negative or fractional part, no results, or an index twice;
 * ResultWriterError when the location cannot be written
 */
export async function writeResultPart(
  store: ObjectStore,
  target: ResultLocation,
  part: number,
  results: readonly ItemResult[],
): Promise<PartSummary> {
  if (!Number.isInteger(part) || part < 0) throw new RangeError(`part ${part} is not 0, 1, …`);
  if (results.length === 0) throw new RangeError(`part ${part} has no results`);
  const sorted = [...results].sort((a, b) => a.index - b.index);
  let succeeded = 0;
  let failed = 0;
  for (const [i, result] of sorted.entries()) {
    if (i > 0 && sorted[i - 1]?.index === result.index) {
      throw new RangeError(`part ${part} has item ${result.index} twice`);
    }
    if (result.status === "succeeded") succeeded++;
    else if (result.status === "failed") failed++;
  }
  const firstIndex = sorted[0]?.index ?? 0;
  const lastIndex = sorted[sorted.length - 1]?.index ?? 0;
  const body = JSON.stringify({
    format: RESULT_FORMAT,
    part,
    first_index: firstIndex,
    last_index: lastIndex,
    count: sorted.length,
    succeeded,
    failed,
    results: sorted.map((r) => ({
      index: r.index,
      status: r.status,
      ...(r.output === undefined ? {} : { output: r.output }),
      ...(r.error === undefined ? {} : { error: r.error }),
    })),
  });
  const key = partKey(target, part);
  await put(store, target.bucket, key, body);
  return {
    part,
    key,
    firstIndex,
    lastIndex,
    count: sorted.length,
    succeeded,
    failed,
    bytes: Buffer.byteLength(body),
  };
}

/**
 * Writes the manifest once every part is written (parts `0 … parts-1`, in item order)
 * and returns what goes in the Map's output data.
 * @throws RangeError for counts that do not add up; ResultWriterError as `writeResultPart`
 */
export async function writeResultManifest(
  store: ObjectStore,
  target: ResultLocation,
  summary: {
    readonly parts: number;
    readonly total: number;
    readonly succeeded: number;
    readonly failed: number;
  },
): Promise<ResultManifestRef> {
  const { parts, total, succeeded, failed } = summary;
  const counts = [parts, total, succeeded, failed];
  if (!counts.every((n) => Number.isInteger(n) && n >= 0) || succeeded + failed > total) {
    throw new RangeError(`manifest counts do not add up: ${JSON.stringify(summary)}`);
  }
  const key = manifestKey(target);
  const cancelled = total - succeeded - failed;
  await put(
    store,
    target.bucket,
    key,
    JSON.stringify({
      format: RESULT_FORMAT,
      bucket: target.bucket,
      key_prefix: target.keyPrefix,
      total,
      succeeded,
      failed,
      cancelled,
      parts: Array.from({ length: parts }, (_, part) => partKey(target, part)),
    }),
  );
  return {
    result_writer: {
      bucket: target.bucket,
      key_prefix: target.keyPrefix,
      manifest_key: key,
      parts,
    },
    counts: { total, succeeded, failed, cancelled },
  };
}
