import assert from "node:assert/strict";
import {
  type EvaluateOptions,
  type EvaluationContext,
  ExpressionError,
  type ExpressionErrorCode,
  evaluateTemplate,
  type JsonValue,
  parseTemplate,
} from "../../lib/core/expr/index.ts";

/** A context with every root set, for tests that read them. */
export const FULL_CONTEXT: Omit<EvaluationContext, "data"> = {
  workflow: {
    input: { customer_id: "c-42", nested: { list: [1, 2, 3] } },
    id: "wf-1",
    name: "order",
  },
  execution: { id: "ex-9", start_time: "2024-05-01T10:00:00.000Z" },
  state: { name: "ProcessOrder", attempt: 2 },
  map: { index: 3, item: { sku: "A1", qty: 2 } },
};

/** Parses and evaluates a template. */
export function render(
  source: string,
  data: JsonValue = null,
  context: Omit<EvaluationContext, "data"> = FULL_CONTEXT,
  options?: EvaluateOptions,
): JsonValue {
  return evaluateTemplate(parseTemplate(source), { ...context, data }, options);
}

/** Evaluates a bare expression (wrapped in `{{ }}`). */
export function evaluate(
  expression: string,
  data: JsonValue = null,
  options?: EvaluateOptions,
): JsonValue {
  return render(`{{ ${expression} }}`, data, FULL_CONTEXT, options);
}

/** What an expected `ExpressionError` must match; omitted fields are not checked. */
export interface ExpectedError {
  readonly code: ExpressionErrorCode;
  readonly offset?: number;
  readonly length?: number;
  readonly suggestion?: string;
  readonly reason?: RegExp;
}

/** Asserts that `run` throws an `ExpressionError` matching `expected`, and returns it. */
export function assertExpressionError(
  run: () => unknown,
  expected: ExpectedError,
): ExpressionError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(
    caught instanceof ExpressionError,
    `expected an ExpressionError, got ${String(caught)}`,
  );
  assert.equal(caught.name, "ExpressionError");
  const summary = `${caught.code}: ${caught.reason}`;
  assert.equal(caught.code, expected.code, summary);
  if (expected.offset !== undefined) assert.equal(caught.offset, expected.offset, summary);
  if (expected.length !== undefined) assert.equal(caught.length, expected.length, summary);
  if (expected.suggestion !== undefined) assert.equal(caught.suggestion, expected.suggestion);
  if (expected.reason !== undefined) assert.match(caught.reason, expected.reason);
  return caught;
}

/** Asserts that parsing `source` fails as `expected`. */
export function assertParseError(source: string, expected: ExpectedError): ExpressionError {
  const error = assertExpressionError(() => parseTemplate(source), expected);
  assert.equal(error.source, source);
  assert.equal(typeof error.offset, "number", "parse errors always carry an offset");
  return error;
}

/** Asserts that evaluating the bare `expression` fails as `expected`. */
export function assertEvalError(
  expression: string,
  expected: ExpectedError,
  data: JsonValue = null,
): ExpressionError {
  const template = parseTemplate(`{{ ${expression} }}`);
  return assertExpressionError(
    () => evaluateTemplate(template, { ...FULL_CONTEXT, data }),
    expected,
  );
}

/** 32-bit FNV-1a computed with BigInt over Node's own UTF-8 encoder: an independent reference. */
export function referenceFnv1a(text: string): bigint {
  let hash = 0x811c9dc5n;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x01000193n) & 0xffffffffn;
  }
  return hash;
}

/** The shard name the `shard` filter must produce for `text` over `count` shards. */
export function referenceShard(text: string, count = 10): string {
  return `shard-${referenceFnv1a(text) % BigInt(count)}`;
}
