/** The errors of a Map's item reader and result writer, as workflows see them. */
import { ERRORS, type WorkflowError } from "../../core/engine/index.ts";

/** Why an item reader failed; stable, for tests and tools. */
export type ItemReaderReason =
  /** No such object or bucket. */
  | "NoSuchObject"
  /**
   * S3 refused the read (403). Without `s3:ListBucket` on the bucket S3 also answers
   * 403, not 404, for a key that does not exist.
   */
  | "AccessDenied"
  /** A record is not valid JSON / CSV, or the file's structure is wrong. */
  | "Unparsable"
  /** A record is not valid UTF-8. */
  | "InvalidUtf8"
  /** One record is larger than a page may read (`maxBytes`). */
  | "RecordTooLarge"
  /** The object changed (another ETag, or shorter) between two pages. */
  | "ObjectChanged";

/**
 * A Map's items could not be read: `Cascade.ItemReaderFailed`, not retryable, naming
 * the object and, for a bad record, its line (1-based). The runtime hands
 * `workflowError` to the engine, where the Map's `catch` can route it. Transient S3
 * failures are not this error: they propagate as they are, so the message is
 * delivered again.
 */
export class ItemReaderError extends Error {
  readonly reason: ItemReaderReason;
  readonly bucket: string;
  readonly key: string;
  /** The line the bad record starts on (1-based), when there is one. */
  readonly line?: number;
  constructor(
    reason: ItemReaderReason,
    where: { readonly bucket: string; readonly key: string; readonly line?: number },
    detail: string,
    options?: { cause?: unknown },
  ) {
    const at = `s3://${where.bucket}/${where.key}${where.line === undefined ? "" : ` line ${where.line}`}`;
    super(`${at}: ${detail}`, options);
    this.name = ERRORS.ITEM_READER_FAILED;
    this.reason = reason;
    this.bucket = where.bucket;
    this.key = where.key;
    if (where.line !== undefined) this.line = where.line;
  }

  /** The error as it crosses the wire. */
  get workflowError(): WorkflowError {
    return { name: ERRORS.ITEM_READER_FAILED, message: this.message, retryable: false };
  }
}

/** Whether an object store's error is S3 refusing access (403): no retry fixes it. */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  return (
    e?.name === "AccessDenied" || e?.name === "Forbidden" || e?.$metadata?.httpStatusCode === 403
  );
}
