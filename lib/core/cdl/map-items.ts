/**
 * A Map's items from S3 (`item_reader:`) and results to S3 (`result_writer:`): the
 * checks JSON Schema cannot express, and their normalised form.
 */
import { parseTemplate } from "../expr/index.ts";
import { CDL_CODES } from "./diagnostics.ts";
import type { ItemFormat } from "./schema.ts";
import type { DocPath } from "./source.ts";
import { isRecord, type Report } from "./structure.ts";
import type { ItemReaderSpec, ResultWriterSpec } from "./types.ts";

type Raw = Record<string, unknown>;

/**
 * S3's bucket naming rules: 3–63 characters of lowercase letters, digits, `.` and `-`,
 * starting and ending with a letter or digit, no `..`, not shaped like an IP address.
 */
export const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Why `bucket` is not a usable S3 bucket name, or undefined when it is. */
export function bucketNameProblem(bucket: string): string | undefined {
  if (!S3_BUCKET_NAME.test(bucket) || bucket.includes("..")) {
    return `'${bucket}' is not an S3 bucket name (3–63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)`;
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    return `'${bucket}' is not an S3 bucket name (it looks like an IP address)`;
  }
  return undefined;
}

/** Checks a Map's `items` / `item_reader` / `result_writer` together. */
export function checkMapItems(raw: Raw, path: DocPath, name: string, report: Report): void {
  const reader = raw.item_reader;
  if (raw.items !== undefined && reader !== undefined) {
    report(
      CDL_CODES.CONFLICTING_KEYS,
      [...path, "item_reader"],
      "a Map takes `items` or `item_reader`, not both: with `item_reader` the items come from the object",
      { part: "key" },
    );
  } else if (raw.items === undefined && reader === undefined) {
    report(
      CDL_CODES.REQUIRED,
      [...path, "name"],
      `Map state '${name}' needs \`items\` (a list or a {{ }} expression) or \`item_reader\` (an S3 object)`,
    );
  }
  if (isRecord(reader)) {
    const at = [...path, "item_reader"];
    checkBucket(reader.bucket, [...at, "bucket"], report);
    if (reader.key === "") {
      report(CDL_CODES.INVALID_VALUE, [...at, "key"], "the object's key cannot be empty");
    }
    if (reader.csv_header !== undefined && reader.format !== "csv" && reader.format !== undefined) {
      report(
        CDL_CODES.CONFLICTING_KEYS,
        [...at, "csv_header"],
        `\`csv_header\` applies only to format csv, not ${String(reader.format)}`,
        { part: "key" },
      );
    }
    if (Array.isArray(reader.csv_header))
      checkHeader(reader.csv_header, [...at, "csv_header"], report);
  }
  const writer = raw.result_writer;
  if (isRecord(writer)) checkBucket(writer.bucket, [...path, "result_writer", "bucket"], report);
}

function checkBucket(bucket: unknown, path: DocPath, report: Report): void {
  // A templated bucket is checked when the runtime evaluates it.
  if (typeof bucket !== "string" || bucket.includes("{{")) return;
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) report(CDL_CODES.INVALID_VALUE, path, problem);
}

function checkHeader(names: readonly unknown[], path: DocPath, report: Report): void {
  const seen = new Set<string>();
  names.forEach((name, index) => {
    if (typeof name !== "string") return;
    if (name === "") {
      report(CDL_CODES.INVALID_VALUE, [...path, index], "a column name cannot be empty");
    } else if (seen.has(name)) {
      report(
        CDL_CODES.INVALID_VALUE,
        [...path, index],
        `column '${name}' is named twice; each column names one field of the item`,
      );
    }
    seen.add(name);
  });
}

/** The normalised `item_reader` of a checked Map, or undefined without one. */
export function buildItemReader(raw: Raw): ItemReaderSpec | undefined {
  const reader = raw.item_reader;
  if (!isRecord(reader)) return undefined;
  const format = reader.format as ItemFormat;
  const header = reader.csv_header as true | string[] | undefined;
  return {
    bucket: parseTemplate(reader.bucket as string),
    key: parseTemplate(reader.key as string),
    format,
    ...(format === "csv" ? { csvHeader: header ?? true } : {}),
    ...(typeof reader.max_items === "number" ? { maxItems: reader.max_items } : {}),
  };
}

/** The normalised `result_writer` of a checked Map, or undefined without one. */
export function buildResultWriter(raw: Raw): ResultWriterSpec | undefined {
  const writer = raw.result_writer;
  if (!isRecord(writer)) return undefined;
  return {
    bucket: parseTemplate(writer.bucket as string),
    keyPrefix: parseTemplate(writer.key_prefix as string),
  };
}
