/**
 * The parser's small pure helpers: the span between two tokens, how a token is quoted
 * in a message, plurals, and the value of a constant argument.
 */
import type { Expression, Span } from "./ast.ts";
import type { JsonValue } from "./json.ts";
import type { Token } from "./lexer.ts";

/** The longest token text quoted whole in a message, in characters (longer ones are cut). */
const MAX_QUOTED_TOKEN_LENGTH = 40;

/** The span from the start of `from` to the end of `to`. */
export function spanOf(from: Span, to: Span): Span {
  return { offset: from.offset, length: to.offset + to.length - from.offset };
}

/** A token as an error message names it. */
export function quoteToken(token: Token): string {
  switch (token.type) {
    case "end":
      return "the end of the text";
    case "string":
      return "a string";
    default:
      return token.text.length > MAX_QUOTED_TOKEN_LENGTH
        ? `'${token.text.slice(0, MAX_QUOTED_TOKEN_LENGTH)}...'`
        : `'${token.text}'`;
  }
}

/** `1 argument`, `2 arguments`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The value of an expression that is a constant, or `undefined`. */
export function constantValue(expression: Expression): JsonValue | undefined {
  if (expression.type === "literal") return expression.value;
  if (
    expression.type === "unary" &&
    expression.operator === "-" &&
    expression.operand.type === "literal" &&
    typeof expression.operand.value === "number"
  ) {
    return -expression.operand.value;
  }
  return undefined;
}
