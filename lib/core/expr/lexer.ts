import { ExpressionError, type ExpressionErrorCode, withSuggestion } from "./errors.ts";
import { MAX_EXPRESSION_LENGTH } from "./limits.ts";

/** Kinds of token. `close` is `}}`, which ends an expression; `end` is the end of the source. */
export type TokenType = "number" | "string" | "identifier" | "operator" | "close" | "end";

/** One token of an expression. */
export interface Token {
  readonly type: TokenType;
  /** The identifier or operator text; the raw source text for literals. */
  readonly text: string;
  /** The decoded value of a number or string literal; `text` otherwise. */
  readonly value: string | number;
  readonly offset: number;
  readonly length: number;
}

const TWO_CHAR_OPERATORS: ReadonlySet<string> = new Set(["==", "!=", "<=", ">=", "&&", "||"]);
const ONE_CHAR_OPERATORS: ReadonlySet<string> = new Set([
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "!",
  "|",
  "(",
  ")",
  "[",
  "]",
  ",",
  ".",
]);
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ["\\", "\\"],
  ["'", "'"],
  ['"', '"'],
  ["/", "/"],
  ["b", "\b"],
  ["f", "\f"],
  ["n", "\n"],
  ["r", "\r"],
  ["t", "\t"],
]);

/** Whether `char` may start an identifier: `[A-Za-z_$]`. */
export function isIdentifierStart(char: string | undefined): boolean {
  return char !== undefined && /^[A-Za-z_$]$/.test(char);
}

/** Whether `char` may continue an identifier: `[A-Za-z0-9_]`. */
export function isIdentifierPart(char: string | undefined): boolean {
  return char !== undefined && /^[A-Za-z0-9_]$/.test(char);
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= "0" && char <= "9";
}

/** A character for an error message: itself when printable ASCII, its code point otherwise. */
export function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code > 0x20 && code < 0x7f) return `'${char}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Reads a quoted string literal starting at `offset` (which holds the quote).
 * Escapes: `\\ \' \" \/ \b \f \n \r \t \uXXXX`.
 * Throws `ExpressionError` with `code` on an unterminated literal or a bad escape.
 */
export function readStringLiteral(
  source: string,
  offset: number,
  code: ExpressionErrorCode,
): { readonly value: string; readonly end: number } {
  const quote = source[offset];
  let value = "";
  let chunkStart = offset + 1;
  let i = offset + 1;
  while (i < source.length) {
    const char = source[i];
    if (char === quote) return { value: value + source.slice(chunkStart, i), end: i + 1 };
    if (char !== "\\") {
      i++;
      continue;
    }
    value += source.slice(chunkStart, i);
    const escaped = source[i + 1];
    const simple = escaped === undefined ? undefined : SIMPLE_ESCAPES.get(escaped);
    if (simple !== undefined) {
      value += simple;
      i += 2;
    } else if (escaped === "u" && /^[0-9A-Fa-f]{4}$/.test(source.slice(i + 2, i + 6))) {
      value += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      const shown = escaped === undefined ? "at the end of the text" : describeChar(escaped);
      throw new ExpressionError(code, `invalid escape sequence: backslash followed by ${shown}`, {
        source,
        offset: i,
        length: escaped === undefined ? 1 : 2,
      });
    }
    chunkStart = i;
  }
  throw new ExpressionError(code, "unterminated string literal", { source, offset, length: 1 });
}

/**
 * A single-quoted string literal for `value`, which {@link readStringLiteral}
 * reads back exactly: backslash, quote and control characters are escaped.
 */
export function quoteString(value: string): string {
  let quoted = "";
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char === "\\" || char === "'") quoted += `\\${char}`;
    else if (char === "\n") quoted += "\\n";
    else if (char === "\t") quoted += "\\t";
    else if (char === "\r") quoted += "\\r";
    else if (code < 0x20 || code === 0x7f) quoted += `\\u${code.toString(16).padStart(4, "0")}`;
    else quoted += char;
  }
  return `'${quoted}'`;
}

/**
 * Tokenizes one expression on demand, starting just after its `{{`. It never
 * reads past the `}}` that closes the expression, so the text after it is left
 * for the template scanner.
 */
export class Lexer {
  readonly source: string;
  private readonly start: number;
  private readonly openOffset: number;
  private position: number;

  /**
   * @param source the whole template source
   * @param start offset just after the opening `{{`
   * @param openOffset offset of the opening `{{`, where length errors point
   */
  constructor(source: string, start: number, openOffset: number) {
    this.source = source;
    this.start = start;
    this.openOffset = openOffset;
    this.position = start;
  }

  /** The next token; `close` for `}}`, `end` at the end of the source. */
  next(): Token {
    const token = this.scan();
    if (token.offset + token.length - this.start > MAX_EXPRESSION_LENGTH) {
      throw new ExpressionError(
        "EXPR_BUDGET",
        `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`,
        { source: this.source, offset: this.openOffset, length: 2 },
      );
    }
    return token;
  }

  private scan(): Token {
    const source = this.source;
    while (/^[ \t\r\n]$/.test(source[this.position] ?? "")) this.position++;
    const offset = this.position;
    const char = source[offset];
    if (char === undefined) return this.token("end", "", offset, 0);
    if (isDigit(char)) return this.number(offset);
    if (char === "'" || char === '"') {
      const { value, end } = readStringLiteral(source, offset, "EXPR_SYNTAX");
      this.position = end;
      return {
        type: "string",
        text: source.slice(offset, end),
        value,
        offset,
        length: end - offset,
      };
    }
    if (isIdentifierStart(char)) {
      let end = offset + 1;
      while (isIdentifierPart(source[end])) end++;
      return this.token("identifier", source.slice(offset, end), offset, end - offset);
    }
    const pair = source.slice(offset, offset + 2);
    if (pair === "}}") return this.token("close", pair, offset, 2);
    if (TWO_CHAR_OPERATORS.has(pair)) return this.token("operator", pair, offset, 2);
    if (ONE_CHAR_OPERATORS.has(char)) return this.token("operator", char, offset, 1);
    const suggestion = char === "=" ? "==" : char === "&" ? "&&" : undefined;
    const reason = withSuggestion(`unexpected character ${describeChar(char)}`, suggestion);
    throw new ExpressionError("EXPR_SYNTAX", reason, {
      source,
      offset,
      length: char.length,
      suggestion,
    });
  }

  private token(type: TokenType, text: string, offset: number, length: number): Token {
    this.position = offset + length;
    return { type, text, value: text, offset, length };
  }

  private number(offset: number): Token {
    const source = this.source;
    let end = offset;
    while (isDigit(source[end])) end++;
    if (source[end] === "." && isDigit(source[end + 1])) {
      end++;
      while (isDigit(source[end])) end++;
    }
    if (source[end] === "e" || source[end] === "E") {
      let exponent = end + 1;
      if (source[exponent] === "+" || source[exponent] === "-") exponent++;
      if (!isDigit(source[exponent])) {
        throw new ExpressionError("EXPR_SYNTAX", "malformed number: exponent without digits", {
          source,
          offset,
          length: exponent - offset,
        });
      }
      end = exponent;
      while (isDigit(source[end])) end++;
    }
    const text = source.slice(offset, end);
    const value = Number(text);
    if (!Number.isFinite(value)) {
      throw new ExpressionError("EXPR_SYNTAX", "number is too large", {
        source,
        offset,
        length: end - offset,
      });
    }
    this.position = end;
    return { type: "number", text, value, offset, length: end - offset };
  }
}
