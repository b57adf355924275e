/**
 * CSV after RFC 4180, over one byte range: fields separated by `,`, records by CRLF or
 * LF, a field in double quotes may hold `,`, line breaks and `""` (one quote). A quote
 * inside an unquoted field is kept as it is; anything but `,` or a line break after a
 * closing quote is an error. Blank lines are skipped. Each row becomes an object of
 * strings keyed by the header.
 *
 * Written here rather than taken from npm: the reader resumes at a byte offset in a
 * fresh range for every page, so it needs the byte offset and line of every record
 * boundary and a parser that starts cold at any of them; that is this one loop, with
 * no dependency to bundle into the functions.
 */
import type { JsonValue } from "../../core/expr/index.ts";
import { decodeRecord, type ScanInput, type ScanOutput } from "./scan.ts";

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** One record's fields, and where the next record starts; undefined when the range ends first. */
function record(
  bytes: Uint8Array,
  start: number,
  eof: boolean,
  line: number,
  fail: ScanInput["fail"],
): { fields: string[]; next: number; lines: number } | undefined {
  const fields: string[] = [];
  let pos = start;
  let lines = 0;
  for (;;) {
    if (bytes[pos] === QUOTE) {
      // A quoted field: up to the quote not doubled.
      let i = pos + 1;
      let doubled = false;
      for (;;) {
        if (i >= bytes.length) {
          if (eof)
            fail("Unparsable", line, "a quoted field is not closed before the end of the object");
          return undefined;
        }
        const b = bytes[i];
        if (b === QUOTE) {
          if (i + 1 >= bytes.length && !eof) return undefined;
          if (bytes[i + 1] === QUOTE) {
            doubled = true;
            i += 2;
            continue;
          }
          break;
        }
        if (b === LF) lines++;
        i++;
      }
      const text = decodeRecord(bytes.subarray(pos + 1, i), line, fail);
      fields.push(doubled ? text.replaceAll('""', '"') : text);
      pos = i + 1;
      const after = bytes[pos];
      if (after === COMMA) {
        pos++;
        continue;
      }
      if (after === CR && bytes[pos + 1] === LF) return { fields, next: pos + 2, lines: lines + 1 };
      if (after === LF) return { fields, next: pos + 1, lines: lines + 1 };
      if (pos >= bytes.length) {
        if (eof) return { fields, next: pos, lines };
        return undefined;
      }
      if (after === CR && pos + 1 >= bytes.length) {
        return eof ? { fields, next: pos + 1, lines } : undefined;
      }
      fail("Unparsable", line + lines, "only , or a line break may follow a closing quote");
    }
    // An unquoted field: up to the next `,` or line break.
    let i = pos;
    while (i < bytes.length && bytes[i] !== COMMA && bytes[i] !== LF) i++;
    if (i >= bytes.length && !eof) return undefined;
    const end = i > pos && bytes[i] === LF && bytes[i - 1] === CR ? i - 1 : i;
    const endTrimmed = i >= bytes.length && end > pos && bytes[end - 1] === CR ? end - 1 : end;
    fields.push(decodeRecord(bytes.subarray(pos, endTrimmed), line, fail));
    if (bytes[i] === COMMA) {
      pos = i + 1;
      continue;
    }
    return {
      fields,
      next: i < bytes.length ? i + 1 : i,
      lines: i < bytes.length ? lines + 1 : lines,
    };
  }
}

function isBlankRecord(fields: readonly string[]): boolean {
  return fields.length === 1 && fields[0] === "";
}

/** Checks a header row's names: none empty, none twice. */
export function checkHeader(names: readonly string[], line: number, fail: ScanInput["fail"]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (name === "") fail("Unparsable", line, "the header row has an empty column name");
    if (seen.has(name)) fail("Unparsable", line, `the header row names column '${name}' twice`);
    seen.add(name);
  }
}

/**
 * CSV rows as objects. Without `header`, the first (non-blank) record is the header
 * row: it is returned in `header` and is not an item.
 */
export function scanCsv(
  input: ScanInput & { readonly header: readonly string[] | undefined },
): ScanOutput & { readonly header: readonly string[] | undefined } {
  const { bytes, eof, max, fail } = input;
  const items: JsonValue[] = [];
  let header = input.header;
  let pos = 0;
  let line = input.line;
  while (items.length < max && pos < bytes.length) {
    const found = record(bytes, pos, eof, line, fail);
    if (!found) break;
    if (!isBlankRecord(found.fields)) {
      if (header === undefined) {
        checkHeader(found.fields, line, fail);
        header = found.fields;
      } else {
        if (found.fields.length !== header.length) {
          fail(
            "Unparsable",
            line,
            `the row has ${found.fields.length} field(s); the header has ${header.length}`,
          );
        }
        // fromEntries defines own properties, so a column named __proto__ is just a field.
        const row = found.fields;
        items.push(Object.fromEntries(header.map((name, index) => [name, row[index] ?? ""])));
      }
    }
    pos = found.next;
    line += found.lines;
  }
  return { items, consumed: pos, line, header };
}
