import type { Expression, Span } from "./ast.ts";
import { ExpressionError } from "./errors.ts";
import {
  type Budget,
  createBudget,
  type EvaluateOptions,
  type EvaluationContext,
  Evaluator,
} from "./evaluate.ts";
import { type JsonValue, stringForm } from "./json.ts";
import { MAX_STRING_LENGTH, MAX_VALUE_DEPTH } from "./limits.ts";
import { parseTemplateExpression } from "./parser.ts";
import { formatPath, type PathSegment } from "./path.ts";

/** One `{{ expr }}` of a template; the span covers the braces. */
export interface TemplateExpression extends Span {
  readonly expression: Expression;
}

/** A piece of a template: literal text or an expression. */
export type TemplatePart = string | TemplateExpression;

/**
 * A parsed template.
 * - `literal`: no `{{`; evaluates to the source itself.
 * - `whole`: exactly one `{{ expr }}`, with only whitespace around it; evaluates to the expression's value, of any JSON type.
 * - `mixed`: anything else; evaluates to a string (strings inserted as they are, other values as JSON).
 */
export interface Template {
  readonly source: string;
  readonly kind: "literal" | "whole" | "mixed";
  /** Literal text and expressions, in source order. */
  readonly parts: readonly TemplatePart[];
}

/** Whether `text` contains a template, that is `{{`. */
export function hasTemplate(text: string): boolean {
  return text.includes("{{");
}

/**
 * Parses a template: text with zero or more `{{ expr }}`. Write a literal `{{`
 * as `{{ '{{' }}`. Throws `ExpressionError` with the offset of the problem in
 * `source` (`EXPR_SYNTAX`, `EXPR_UNKNOWN_ROOT`, `EXPR_UNKNOWN_FIELD`,
 * `EXPR_UNKNOWN_FILTER`, `EXPR_FORBIDDEN_KEY`, `EXPR_ARGUMENT`, `EXPR_TYPE`, `EXPR_BUDGET`).
 */
export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let position = 0;
  for (;;) {
    const open = source.indexOf("{{", position);
    if (open === -1) break;
    if (open > position) parts.push(source.slice(position, open));
    const { expression, end } = parseTemplateExpression(source, open);
    parts.push(Object.freeze({ expression, offset: open, length: end - open }));
    position = end;
  }
  if (position < source.length) parts.push(source.slice(position));
  const expressions = parts.filter((part) => typeof part !== "string").length;
  const kind =
    expressions === 0
      ? "literal"
      : expressions === 1 && parts.every((part) => typeof part !== "string" || part.trim() === "")
        ? "whole"
        : "mixed";
  return Object.freeze({ source, kind, parts: Object.freeze(parts) });
}

/** Turns a `RangeError` (stack or string length exhausted) into an `EXPR_BUDGET` error. */
function guarded<T>(source: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new ExpressionError(
        "EXPR_BUDGET",
        "evaluation exhausted the engine's stack or memory",
        {
          source,
          cause: error,
        },
      );
    }
    throw error;
  }
}

function evaluateWithBudget(
  template: Template,
  context: EvaluationContext,
  budget: Budget,
): JsonValue {
  if (template.kind === "literal") return template.source;
  return guarded(template.source, () => {
    const evaluator = new Evaluator(template.source, context, budget);
    if (template.kind === "whole") {
      const part = template.parts.find((candidate) => typeof candidate !== "string");
      return part === undefined ? null : evaluator.evaluate(part.expression);
    }
    const pieces: string[] = [];
    let length = 0;
    for (const part of template.parts) {
      const piece =
        typeof part === "string"
          ? part
          : stringForm(evaluator.evaluate(part.expression), evaluator);
      length += piece.length;
      if (length > MAX_STRING_LENGTH) {
        const at = typeof part === "string" ? undefined : part;
        throw new ExpressionError(
          "EXPR_BUDGET",
          `result string is longer than ${MAX_STRING_LENGTH} characters`,
          {
            source: template.source,
            offset: at?.offset,
            length: at?.length,
          },
        );
      }
      pieces.push(piece);
    }
    return pieces.join("");
  });
}

/**
 * Evaluates a template against a context. Pure and deterministic; reads only
 * own properties of the data. Missing paths read as null.
 * Throws `ExpressionError` (`EXPR_TYPE`, `EXPR_ARGUMENT`, `EXPR_DIVISION_BY_ZERO`,
 * `EXPR_FORBIDDEN_KEY`, `EXPR_BUDGET`) with the offset of the failing expression.
 * The result may share structure with `context` values; treat it as immutable.
 */
export function evaluateTemplate(
  template: Template,
  context: EvaluationContext,
  options?: EvaluateOptions,
): JsonValue {
  return evaluateWithBudget(template, context, createBudget(options, template.source));
}

/** A JSON value whose template strings are parsed once, ready to evaluate many times. */
export type CompiledValue =
  | { readonly kind: "constant"; readonly value: JsonValue }
  | { readonly kind: "template"; readonly template: Template; readonly valuePath: string }
  | { readonly kind: "array"; readonly items: readonly CompiledValue[] }
  | { readonly kind: "object"; readonly entries: readonly (readonly [string, CompiledValue])[] };

/** `customer.id`, `[2]`, `items[0]['odd key']`; `""` for the value itself. */
function formatValuePath(path: readonly PathSegment[]): string {
  const text = formatPath(path);
  return text.startsWith("$.") ? text.slice(2) : text.slice(1);
}

function compileAt(value: JsonValue, path: PathSegment[]): CompiledValue {
  if (typeof value === "string") {
    if (!hasTemplate(value)) return { kind: "constant", value };
    const valuePath = formatValuePath(path);
    try {
      return { kind: "template", template: parseTemplate(value), valuePath };
    } catch (error) {
      throw error instanceof ExpressionError ? error.withValuePath(valuePath) : error;
    }
  }
  if (typeof value !== "object" || value === null) return { kind: "constant", value };
  if (path.length >= MAX_VALUE_DEPTH) {
    const valuePath = formatValuePath(path);
    throw new ExpressionError(
      "EXPR_BUDGET",
      `value is nested deeper than ${MAX_VALUE_DEPTH} levels`,
      {
        source: valuePath,
        valuePath,
      },
    );
  }
  if (Array.isArray(value)) {
    const items = value.map((item, index) => compileAt(item, [...path, index]));
    return items.every((item) => item.kind === "constant")
      ? { kind: "constant", value }
      : { kind: "array", items };
  }
  const entries = Object.keys(value).map(
    (key) => [key, compileAt(value[key] as JsonValue, [...path, key])] as const,
  );
  return entries.every(([, item]) => item.kind === "constant")
    ? { kind: "constant", value }
    : { kind: "object", entries };
}

/**
 * Compiles a whole JSON value (e.g. a Task's `parameters`): every string that
 * contains `{{` becomes a {@link Template}; other values are kept as they are.
 * Throws the first template's `ExpressionError`, with `valuePath` saying where
 * in the value it is (`customer.id`, `[2]`, `""` for the value itself).
 */
export function compileValue(value: JsonValue): CompiledValue {
  return compileAt(value, []);
}

function evaluateCompiled(
  compiled: CompiledValue,
  context: EvaluationContext,
  budget: Budget,
): JsonValue {
  switch (compiled.kind) {
    case "constant":
      return compiled.value;
    case "template":
      try {
        return evaluateWithBudget(compiled.template, context, budget);
      } catch (error) {
        throw error instanceof ExpressionError ? error.withValuePath(compiled.valuePath) : error;
      }
    case "array":
      return compiled.items.map((item) => evaluateCompiled(item, context, budget));
    case "object":
      // fromEntries defines own properties, so even a "__proto__" key stays plain data.
      return Object.fromEntries(
        compiled.entries.map(([key, item]) => [key, evaluateCompiled(item, context, budget)]),
      );
  }
}

/**
 * Evaluates a compiled value: each template is evaluated, everything else is
 * returned as it was given. One budget covers the whole value.
 * Throws `ExpressionError` with `valuePath` set, as `evaluateTemplate` does.
 */
export function evaluateValue(
  compiled: CompiledValue,
  context: EvaluationContext,
  options?: EvaluateOptions,
): JsonValue {
  return evaluateCompiled(compiled, context, createBudget(options, ""));
}
