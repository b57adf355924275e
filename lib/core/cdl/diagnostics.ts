/**
 * Problems found in a CDL document (or `cascade.yaml`), each with a stable code,
 * a place in the source and a one-line message, and how to print them.
 */

/** Stable codes: tools, tests and users match on these, never on message text. */
export const CDL_CODES = {
  YAML_SYNTAX: "CDL_YAML_SYNTAX",
  DUPLICATE_KEY: "CDL_DUPLICATE_KEY",
  UNKNOWN_KEY: "CDL_UNKNOWN_KEY",
  REQUIRED: "CDL_REQUIRED",
  TYPE: "CDL_TYPE",
  INVALID_VALUE: "CDL_INVALID_VALUE",
  UNKNOWN_STATE_TYPE: "CDL_UNKNOWN_STATE_TYPE",
  DUPLICATE_STATE: "CDL_DUPLICATE_STATE",
  UNKNOWN_TARGET: "CDL_UNKNOWN_TARGET",
  TARGET_OUT_OF_SCOPE: "CDL_TARGET_OUT_OF_SCOPE",
  UNREACHABLE: "CDL_UNREACHABLE",
  NO_WAY_OUT: "CDL_NO_WAY_OUT",
  NEXT_AND_END: "CDL_NEXT_AND_END",
  DURATION: "CDL_DURATION",
  EXPRESSION: "CDL_EXPRESSION",
  RESULT_PATH: "CDL_RESULT_PATH",
  RESULT_CONFLICT: "CDL_RESULT_CONFLICT",
  RESOURCE: "CDL_RESOURCE",
  /** A warning: `@us-east-1` names a worker pool, which runs in the app's region, not in that one. */
  POOL_NAMED_LIKE_REGION: "CDL_POOL_NAMED_LIKE_REGION",
  UNKNOWN_ACTIVITY: "CDL_UNKNOWN_ACTIVITY",
  CONFLICTING_KEYS: "CDL_CONFLICTING_KEYS",
  ERROR_NAMES: "CDL_ERROR_NAMES",
  MISSING_NAME: "CDL_MISSING_NAME",
  TASK_TIMEOUT_EXCEEDS_FUNCTION: "CDL_TASK_TIMEOUT_EXCEEDS_FUNCTION",
  /** The last of {@link MAX_DIAGNOSTICS} problems: there are more, not listed. */
  TOO_MANY_PROBLEMS: "CDL_TOO_MANY_PROBLEMS",
} as const;
export type CdlCode = (typeof CDL_CODES)[keyof typeof CDL_CODES];

export type Severity = "error" | "warning";

/** One problem. Lines and columns are 1-based; `length` is the span to underline, in characters. */
export interface Diagnostic {
  /** `CDL_*` for workflows; `cascade.yaml`'s checks reuse the validator with `CONFIG_*` codes. */
  readonly code: CdlCode | `CONFIG_${string}`;
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly length: number;
  /** Where in the document, e.g. `states[2].next`. */
  readonly path: string;
  /** The name the user probably meant, when one is close. */
  readonly suggestion?: string;
}

/** A source text with fast offset → line/column lookups. */
export class SourceText {
  readonly name: string;
  readonly text: string;
  readonly #lineStarts: number[];

  constructor(name: string, text: string) {
    this.name = name;
    this.text = text;
    this.#lineStarts = [0];
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
    }
  }

  /** 1-based line and column of a 0-based offset (clamped into the text). */
  position(offset: number): { line: number; column: number } {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - (this.#lineStarts[lo] ?? 0) + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.#lineStarts[line - 1];
    if (start === undefined) return "";
    const next = this.#lineStarts[line];
    return this.text
      .slice(start, next === undefined ? this.text.length : next - 1)
      .replace(/\r$/, "");
  }
}

/**
 * The most problems one document reports. Hostile input would otherwise turn a 256 KiB
 * `POST /v1/validate` into 240,000 diagnostics (40 MiB of answer, past the 6 MB a Lambda
 * may return); nobody reads past the first few hundred.
 */
export const MAX_DIAGNOSTICS = 500;

/**
 * `diagnostics` (sorted) cut to {@link MAX_DIAGNOSTICS}, the last one then saying that
 * more were found (`CDL_TOO_MANY_PROBLEMS`, at the last shown problem's place).
 */
export function capDiagnostics(diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS) return diagnostics;
  const shown = diagnostics.slice(0, MAX_DIAGNOSTICS - 1);
  const last = shown[shown.length - 1] ?? diagnostics[0];
  return [
    ...shown,
    {
      code: CDL_CODES.TOO_MANY_PROBLEMS,
      severity: "error",
      message: `more than ${MAX_DIAGNOSTICS} problems; only the first ${MAX_DIAGNOSTICS - 1} are shown: fix those first`,
      file: last?.file ?? "",
      line: last?.line ?? 1,
      column: last?.column ?? 1,
      length: 1,
      path: "(document)",
    },
  ];
}

/** By file, then position, then code; stable for equal keys. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      compareText(a.code, b.code),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A diagnostic as a person reads it: `file:line:column severity CODE message`,
 * then the offending line with a caret under the span.
 */
export function formatDiagnostic(diagnostic: Diagnostic, source?: SourceText): string {
  const head = `${diagnostic.file}:${diagnostic.line}:${diagnostic.column} ${diagnostic.severity} ${diagnostic.code} ${diagnostic.message}`;
  if (!source) return head;
  const text = source.lineText(diagnostic.line);
  if (text.trim() === "") return head;
  const gutter = String(diagnostic.line).length;
  const lineLength = Math.max(1, text.length - diagnostic.column + 1);
  const width = Math.max(1, Math.min(diagnostic.length, lineLength));
  const pad = text.slice(0, diagnostic.column - 1).replace(/[^\t]/g, " ");
  return [
    head,
    `  ${String(diagnostic.line)} | ${text}`,
    `  ${" ".repeat(gutter)} | ${pad}${"^".repeat(width)}`,
  ].join("\n");
}
