/**
 * Record scanners over one byte range of an object: each finds the complete records
 * from the start of the range, parses them, and says how far it got, so the next
 * range starts at a record boundary (a record cut by the range's end is read again,
 * whole, by the next range). Delimiters are ASCII, and no byte of a multi-byte UTF-8
 * character is ASCII, so the scanners work on bytes and decode each record alone.
 * Every scanner is linear in the bytes it is given.
 */
import type { JsonValue } from "../../core/expr/index.ts";
import type { ItemReaderReason } from "./errors.ts";

/** One range to scan. `line` is the 1-based line of `bytes[0]`. */
export interface ScanInput {
  readonly bytes: Uint8Array;
  /** The range ends at the object's end: a last record needs no terminator. */
  readonly eof: boolean;
  readonly line: number;
  /** Stop after this many items. */
  readonly max: number;
  /** Throws the reader's error for a bad record on `line`. */
  readonly fail: (reason: ItemReaderReason, line: number, detail: string) => never;
}

export interface ScanOutput {
  readonly items: JsonValue[];
  /** Bytes of `bytes` that hold complete records (and the separators after them). */
  readonly consumed: number;
  /** The line at `bytes[consumed]`. */
  readonly line: number;
}

const LF = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes one record's bytes, or fails with `InvalidUtf8` on its line. */
export function decodeRecord(bytes: Uint8Array, line: number, fail: ScanInput["fail"]): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return fail("InvalidUtf8", line, "the record is not valid UTF-8");
  }
}

function parseJson(text: string, line: number, fail: ScanInput["fail"]): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    return fail("Unparsable", line, `not valid JSON: ${(error as Error).message}`);
  }
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== CR) return false;
  }
  return true;
}

/** JSON Lines: one JSON value per line (LF or CRLF); blank lines are skipped. */
export function scanJsonLines(input: ScanInput): ScanOutput {
  const { bytes, eof, max, fail } = input;
  const items: JsonValue[] = [];
  let pos = 0;
  let line = input.line;
  while (items.length < max && pos < bytes.length) {
    const newline = bytes.indexOf(LF, pos);
    if (newline === -1 && !eof) break;
    const end = newline === -1 ? bytes.length : newline;
    if (!isBlank(bytes, pos, end)) {
      const text = decodeRecord(bytes.subarray(pos, end), line, fail);
      items.push(parseJson(text, line, fail));
    }
    pos = newline === -1 ? bytes.length : newline + 1;
    line++;
  }
  return { items, consumed: pos, line };
}

/** Where a JSON array scan stands between two records. */
export type JsonPhase =
  /** Before the `[`. */
  | "open"
  /** After the `[`: an item or `]`. */
  | "first"
  /** After a `,`: an item. */
  | "item"
  /** After an item: `,` or `]`. */
  | "next"
  /** After the `]`: only whitespace. */
  | "done";

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === LF || b === CR || b === 0x09;
}

/**
 * The end (exclusive) of the JSON value starting at `start`, or -1 when the range
 * ends first. Tracks nesting depth, strings and escapes; a scalar ends at `,`, `]` or
 * whitespace (or the object's end). Counts the line breaks it passes into `lines`.
 */
function valueEnd(bytes: Uint8Array, start: number, eof: boolean, lines: { n: number }): number {
  const first = bytes[start];
  if (first !== OPEN_BRACKET && first !== OPEN_BRACE && first !== QUOTE) {
    for (let i = start; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === COMMA || b === CLOSE_BRACKET || b === CLOSE_BRACE || isSpace(b)) return i;
    }
    return eof ? bytes.length : -1;
  }
  let depth = 0;
  let inString = false;
  let newlines = 0;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) {
        inString = false;
        if (depth === 0) {
          lines.n += newlines;
          return i + 1;
        }
      }
      continue;
    }
    if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACKET || b === OPEN_BRACE) depth++;
    else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      if (--depth === 0) {
        lines.n += newlines;
        return i + 1;
      }
    } else if (b === LF) newlines++;
  }
  return -1;
}

/** One JSON array of items (whitespace and line breaks anywhere between tokens). */
export function scanJsonArray(
  input: ScanInput & { readonly phase: JsonPhase },
): ScanOutput & { readonly phase: JsonPhase } {
  const { bytes, eof, max, fail } = input;
  const items: JsonValue[] = [];
  let phase = input.phase;
  let pos = 0;
  let line = input.line;
  for (;;) {
    while (pos < bytes.length && isSpace(bytes[pos])) {
      if (bytes[pos] === LF) line++;
      pos++;
    }
    if (pos >= bytes.length) {
      if (eof && phase !== "done") {
        fail(
          "Unparsable",
          line,
          phase === "open"
            ? "the object is empty, not a JSON array"
            : "the JSON array is not closed",
        );
      }
      break;
    }
    const b = bytes[pos];
    if (phase === "done") fail("Unparsable", line, "unexpected content after the JSON array");
    if (phase === "open") {
      if (b !== OPEN_BRACKET) fail("Unparsable", line, "expected a JSON array ([…]) of items");
      pos++;
      phase = "first";
      continue;
    }
    if (phase === "next") {
      if (b === COMMA) phase = "item";
      else if (b === CLOSE_BRACKET) phase = "done";
      else fail("Unparsable", line, "expected , or ] after an item");
      pos++;
      continue;
    }
    if (b === CLOSE_BRACKET) {
      if (phase === "item") fail("Unparsable", line, "a trailing comma before ]");
      pos++;
      phase = "done";
      continue;
    }
    if (items.length >= max) break;
    const lines = { n: 0 };
    const end = valueEnd(bytes, pos, eof, lines);
    if (end === -1) {
      if (eof) fail("Unparsable", line, "the item is not complete at the end of the object");
      break;
    }
    const text = decodeRecord(bytes.subarray(pos, end), line, fail);
    items.push(parseJson(text, line, fail));
    line += lines.n;
    pos = end;
    phase = "next";
  }
  return { items, consumed: pos, line, phase };
}
