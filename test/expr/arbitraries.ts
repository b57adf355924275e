import fc from "fast-check";
import type { JsonValue } from "../../lib/core/expr/index.ts";

/** Field names the generated data and expressions share, so paths often hit. */
export const FIELD_NAMES = [
  "a",
  "b",
  "n",
  "s",
  "list",
  "items",
  "nested",
  "not",
  "$ref",
  "missing",
] as const;

const FILTER_CALLS = [
  "shard",
  "shard(7)",
  "length",
  "default(0)",
  "default($.s)",
  "lower",
  "upper",
  "trim",
  "json",
  "keys",
  "values",
  "sum",
  "min",
  "max",
  "round",
  "round(2)",
  "floor",
  "ceil",
  "abs",
  "join",
  "join('-')",
  "first",
  "last",
  "string",
  "number",
  "unique",
  "sort",
  "reverse",
  "split(',')",
  "contains(1)",
  "contains('a')",
] as const;

const BINARY_OPERATORS = ["or", "||", "and", "&&", "+", "-", "*", "/", "%"] as const;
const COMPARISON_OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"] as const;

/** JSON data as it arrives in practice: produced by JSON.parse (so no -0, no undefined). */
export const jsonData: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 4 })
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue);

/** Data shaped like the fields the generated expressions read. */
export const shapedData: fc.Arbitrary<JsonValue> = fc
  .record({
    a: jsonData,
    b: jsonData,
    n: fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    ),
    s: fc.string({ maxLength: 12 }),
    list: fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 8 }),
    items: fc.array(fc.record({ n: fc.integer(), s: fc.string({ maxLength: 4 }) }), {
      maxLength: 5,
    }),
    nested: fc.array(fc.array(jsonData, { maxLength: 3 }), { maxLength: 3 }),
    not: fc.boolean(),
    $ref: fc.constantFrom("a", "s", "list"),
  })
  .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue);

const numberLiteral = fc.oneof(
  fc.nat({ max: 1000 }).map(String),
  fc.double({ min: 0, max: 1e6, noNaN: true }).map((value) => String(value)),
  fc.constantFrom("0", "1e3", "2.5E-1", "1e+2"),
);

/** A string literal, quoted by JSON.stringify (every JSON escape is valid in the language). */
const stringLiteral = fc
  .oneof(
    fc.string({ maxLength: 6 }),
    fc.string({ maxLength: 4, unit: "binary" }),
    fc.constantFrom("}}", "{{", "a"),
  )
  .map((value) => JSON.stringify(value));

const literal = fc.oneof(numberLiteral, stringLiteral, fc.constantFrom("true", "false", "null"));

const openRoot = fc.constantFrom("$", "$", "$", "workflow.input", "map.item");
const scalarRoot = fc.constantFrom(
  "workflow.id",
  "workflow.name",
  "execution.id",
  "execution.start_time",
  "state.name",
  "state.attempt",
  "map.index",
);

/**
 * Source text of random expressions that follow the grammar. Comparisons and
 * `not` are always parenthesized (they cannot be chained or used as operands);
 * other operators often are not, to exercise precedence.
 */
export const expressionSource: fc.Arbitrary<string> = fc.letrec<{
  expr: string;
  atom: string;
  path: string;
  segment: string;
}>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 4, depthIdentifier: "expression" },
    tie("atom"),
    fc
      .tuple(tie("expr"), fc.constantFrom(...BINARY_OPERATORS), tie("expr"), fc.boolean())
      .map(([left, operator, right, paren]) =>
        paren ? `(${left} ${operator} ${right})` : `${left} ${operator} ${right}`,
      ),
    fc
      .tuple(tie("expr"), fc.constantFrom(...COMPARISON_OPERATORS), tie("expr"))
      .map(([left, operator, right]) => `(${left} ${operator} ${right})`),
    fc
      .tuple(fc.constantFrom("not ", "!"), tie("atom"))
      .map(([operator, operand]) => `(${operator}${operand})`),
    tie("atom").map((operand) => `-${operand}`),
    fc
      .tuple(
        tie("atom"),
        fc.array(fc.constantFrom(...FILTER_CALLS), { minLength: 1, maxLength: 3 }),
      )
      .map(([input, filters]) => `${input} | ${filters.join(" | ")}`),
  ),
  atom: fc.oneof(
    { depthSize: "small", maxDepth: 4, depthIdentifier: "expression" },
    literal,
    tie("path"),
    tie("path"),
    scalarRoot,
    fc.array(tie("expr"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
    tie("expr").map((inner) => `(${inner})`),
  ),
  path: fc
    .tuple(openRoot, fc.array(tie("segment"), { maxLength: 4 }))
    .map(([root, segments]) => `${root}${segments.join("")}`),
  segment: fc.oneof(
    { depthSize: "small", maxDepth: 3, depthIdentifier: "expression" },
    fc.constantFrom(...FIELD_NAMES).map((name) => `.${name}`),
    fc.integer({ min: -3, max: 3 }).map((index) => `[${index}]`),
    fc.constant("[*]"),
    fc.constantFrom(...FIELD_NAMES).map((name) => `['${name}']`),
    tie("expr").map((inner) => `[${inner}]`),
  ),
})).expr;

/** Templates built from generated expressions and literal text. */
export const templateSource: fc.Arbitrary<string> = fc.oneof(
  expressionSource.map((expression) => `{{ ${expression} }}`),
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 5 }).filter((text) => !text.includes("{")),
        expressionSource.map((e) => `{{${e}}}`),
      ),
      {
        maxLength: 4,
      },
    )
    .map((parts) => parts.join("")),
);
