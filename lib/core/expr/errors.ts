/** Stable codes of every error the expression language raises. */
export type ExpressionErrorCode =
  | "EXPR_SYNTAX"
  | "EXPR_UNKNOWN_ROOT"
  | "EXPR_UNKNOWN_FIELD"
  | "EXPR_UNKNOWN_FILTER"
  | "EXPR_FORBIDDEN_KEY"
  | "EXPR_TYPE"
  | "EXPR_ARGUMENT"
  | "EXPR_DIVISION_BY_ZERO"
  | "EXPR_BUDGET"
  | "EXPR_PATH";

/** Where an {@link ExpressionError} points, and what else it knows. */
export interface ExpressionErrorDetails {
  /** The whole template, expression or path text. */
  readonly source: string;
  /** 0-based offset into `source` of the offending text. */
  readonly offset?: number | undefined;
  /** Length of the offending text, for a caret underline. */
  readonly length?: number | undefined;
  /** The did-you-mean name, if any. */
  readonly suggestion?: string | undefined;
  /** Where in a compiled value the template sits, e.g. `customer.id` or `[2]`. */
  readonly valuePath?: string | undefined;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * The only error the expression language throws, at parse time and at
 * evaluation time. Identify it by `name` ("ExpressionError") and `code`.
 * `message` is `reason` followed by the quoted source.
 */
export class ExpressionError extends Error {
  /** Stable error code. */
  readonly code: ExpressionErrorCode;
  /** The whole template, expression or path text. */
  readonly source: string;
  /** 0-based offset into `source` of the problem; always set for parse-time errors. */
  readonly offset: number | undefined;
  /** Length of the offending token, for a caret underline. */
  readonly length: number | undefined;
  /** One line saying what is wrong, without the source text. */
  readonly reason: string;
  /** The did-you-mean name, if any. */
  readonly suggestion: string | undefined;
  /** Where in a compiled value (see `compileValue`) the template sits; `""` is the value itself. */
  readonly valuePath: string | undefined;

  constructor(code: ExpressionErrorCode, reason: string, details: ExpressionErrorDetails) {
    super(
      `${reason} in "${details.source}"`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "ExpressionError";
    this.code = code;
    this.reason = reason;
    this.source = details.source;
    this.offset = details.offset;
    this.length = details.length;
    this.suggestion = details.suggestion;
    this.valuePath = details.valuePath;
  }

  /** A copy of this error that records where in a compiled value it happened. */
  withValuePath(valuePath: string): ExpressionError {
    return new ExpressionError(this.code, this.reason, {
      source: this.source,
      offset: this.offset,
      length: this.length,
      suggestion: this.suggestion,
      valuePath,
      cause: this.cause,
    });
  }
}

/** `reason` plus a "did you mean" clause when there is a suggestion. */
export function withSuggestion(reason: string, suggestion: string | undefined): string {
  return suggestion === undefined ? reason : `${reason}; did you mean '${suggestion}'?`;
}
