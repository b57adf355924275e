import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compileValue,
  type EvaluationContext,
  ExpressionError,
  evaluateTemplate,
  evaluateValue,
  type JsonValue,
  parsePath,
  parseTemplate,
  setPath,
} from "../../lib/core/expr/index.ts";
import { expressionSource, FIELD_NAMES, jsonData } from "./arbitraries.ts";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

const HOSTILE_TEXT = [
  '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "prototype": {"polluted": 1}}',
  '{"a": {"__proto__": {"toString": "x"}}, "list": [{"__proto__": null}, {"constructor": "c"}]}',
  '[{"__proto__": [1, 2]}, "__proto__", "constructor"]',
  '{"valueOf": 1, "toString": "s", "hasOwnProperty": true, "length": 3}',
];

function deeplyNested(depth: number, kind: "array" | "object"): JsonValue {
  let value: JsonValue = "bottom";
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value, __proto__x: i };
  return value;
}

const HOSTILE_DATA: readonly JsonValue[] = [
  ...HOSTILE_TEXT.map((text) => JSON.parse(text) as JsonValue),
  deeplyNested(5_000, "array"),
  deeplyNested(5_000, "object"),
  { a: deeplyNested(2_000, "array"), list: deeplyNested(300, "object") },
  { list: Array.from({ length: 50_000 }, (_, i) => i), s: "x".repeat(200_000) },
  { items: Array.from({ length: 20_000 }, (_, i) => ({ n: i, s: String(i), list: [i, [i]] })) },
  { nested: Array.from({ length: 300 }, () => Array.from({ length: 300 }, () => "abc")) },
  { s: "😀\ud800é\u0000}}{{", n: 1e308, a: -1e308, b: Number.MIN_VALUE },
];

/** Pieces that make up the language, biased toward what could break a parser or reach a prototype. */
const TOKENS = [
  "$",
  ".",
  "[",
  "]",
  "*",
  "|",
  "(",
  ")",
  "'",
  '"',
  "\\",
  ",",
  "{{",
  "}}",
  "{",
  "}",
  " ",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "length",
  ".__proto__",
  "['__proto__']",
  "['constructor']",
  "[$.k]",
  "[*]",
  "[-1]",
  "[0]",
  "[99999999999999999999]",
  "0",
  "1",
  "-1",
  "1e308",
  "1e-400",
  "0.5",
  "NaN",
  "Infinity",
  "+",
  "-",
  "/",
  "%",
  "==",
  "!=",
  "<",
  ">=",
  "!",
  "&&",
  "||",
  "and",
  "or",
  "not",
  "in",
  "not in",
  "true",
  "null",
  "workflow",
  "workflow.input",
  "map.item",
  "state.attempt",
  "execution",
  "shard",
  "| shard(0)",
  "| length",
  "| default($)",
  "| json",
  "| sort",
  "| unique",
  "| split('')",
  "| join",
  "| keys",
  "| values",
  "| round(15)",
  "| number",
  "'\\u0000'",
  "'\\ud800'",
  "'}}'",
  "'{{'",
  "\n",
  "😀",
  ...FIELD_NAMES.map((name) => `.${name}`),
];

const tokenSoup = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }), fc.constantFrom("", " "))
  .map(([tokens, separator]) => tokens.join(separator));

/** A valid expression with random tokens spliced in. */
const mutatedExpression = fc
  .tuple(
    expressionSource,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TOKENS)), { maxLength: 3 }),
  )
  .map(([source, insertions]) =>
    insertions.reduce((text, [at, token]) => {
      const index = at % (text.length + 1);
      return text.slice(0, index) + token + text.slice(index);
    }, source),
  );

const templateText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }).map((text) => `{{ ${text} }}`),
  tokenSoup,
  tokenSoup.map((text) => `{{ ${text} }}`),
  tokenSoup.map((text) => `a{{${text}}}b{{ $ }}`),
  mutatedExpression.map((text) => `{{ ${text} }}`),
  expressionSource.map((text) => `x {{ ${text} }} y`),
);

const data = fc.oneof(fc.constantFrom(...HOSTILE_DATA), jsonData);

const context: fc.Arbitrary<EvaluationContext> = fc
  .tuple(
    data,
    data,
    fc.boolean(),
    fc.boolean(),
    fc.constantFrom("__proto__", "constructor", "a", "list"),
  )
  .map(([main, other, withRoots, withMap, key]) => {
    const withKey =
      typeof main === "object" && main !== null && !Array.isArray(main)
        ? { ...main, k: key }
        : main;
    const base: EvaluationContext = { data: withKey };
    if (!withRoots) return base;
    return {
      ...base,
      workflow: { input: other, id: "__proto__", name: "constructor" },
      execution: { id: "e", start_time: "2024-01-01T00:00:00Z" },
      state: { name: "s", attempt: 1 },
      ...(withMap ? { map: { index: -1, item: other } } : {}),
    };
  });

function snapshotPrototypes(): string {
  const describeObject = (object: object): string =>
    Object.getOwnPropertyNames(object)
      .sort()
      .map((name) => `${name}:${typeof Object.getOwnPropertyDescriptor(object, name)?.value}`)
      .join(",");
  return [Object.prototype, Array.prototype, String.prototype, Function.prototype]
    .map(describeObject)
    .concat(String(Object.getPrototypeOf(Object.prototype)))
    .join("\n");
}

const PROTOTYPES = snapshotPrototypes();

/** Asserts that `value` is plain JSON: only plain objects and arrays, finite numbers, no functions. */
function assertPlainJson(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item === "boolean" || typeof item === "string") continue;
    if (typeof item === "number") {
      assert.ok(Number.isFinite(item), `non-finite number ${item}`);
      continue;
    }
    assert.equal(typeof item, "object", `not JSON: ${typeof item}`);
    assert.notEqual(item, Object.prototype);
    assert.notEqual(item, Array.prototype);
    if (Array.isArray(item)) {
      assert.equal(Object.getPrototypeOf(item), Array.prototype);
      for (let i = 0; i < item.length; i++) {
        assert.ok(Object.hasOwn(item, i), "sparse array");
        stack.push(item[i]);
      }
    } else {
      assert.equal(Object.getPrototypeOf(item), Object.prototype);
      for (const key of Object.keys(item as object))
        stack.push((item as Record<string, unknown>)[key]);
    }
  }
}

function assertNoPollution(): void {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(snapshotPrototypes(), PROTOTYPES);
}

/** Runs `run` and checks that anything it throws is an ExpressionError. */
function guarded<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    assert.ok(
      error instanceof ExpressionError,
      `escaped: ${error instanceof Error ? error.stack : String(error)}`,
    );
    assert.equal(error.name, "ExpressionError");
    assert.equal(typeof error.reason, "string");
    return undefined;
  }
}

describe(`fuzz (${FUZZ_RUNS} runs each)`, () => {
  it("parseTemplate + evaluateTemplate only ever throw ExpressionError, never pollute, return plain JSON", () => {
    fc.assert(
      fc.property(templateText, context, (source, evaluationContext) => {
        const template = guarded(() => parseTemplate(source));
        if (template !== undefined) {
          const result = guarded(() => evaluateTemplate(template, evaluationContext));
          if (result !== undefined) {
            assert.notEqual(typeof result, "function");
            assertPlainJson(result);
          }
        }
        assertNoPollution();
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("compileValue + evaluateValue on hostile values", () => {
    const value = fc.oneof(
      templateText,
      fc.dictionary(fc.constantFrom("__proto__", "constructor", "a", "b"), templateText, {
        maxKeys: 3,
      }),
      fc.array(templateText, { maxLength: 3 }),
    );
    fc.assert(
      fc.property(value, context, (raw, evaluationContext) => {
        const parsed = JSON.parse(JSON.stringify(raw)) as JsonValue;
        const compiled = guarded(() => compileValue(parsed));
        if (compiled !== undefined) {
          const result = guarded(() => evaluateValue(compiled, evaluationContext));
          if (result !== undefined) assertPlainJson(result);
        }
        assertNoPollution();
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("parsePath + setPath only ever throw ExpressionError and never pollute", () => {
    const pathText = fc.oneof(
      fc.string({ unit: "binary", maxLength: 20 }),
      tokenSoup,
      tokenSoup.map((text) => `$${text}`),
    );
    fc.assert(
      fc.property(pathText, data, jsonData, (source, document, value) => {
        const path = guarded(() => parsePath(source));
        if (path !== undefined) {
          const result = guarded(() => setPath(document, path, value));
          if (result !== undefined) assertPlainJson(result);
        }
        assertNoPollution();
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
