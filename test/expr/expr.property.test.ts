import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type Expression,
  ExpressionError,
  evaluateTemplate,
  formatPath,
  getPath,
  isTruthy,
  type JsonValue,
  MAX_ARRAY_LENGTH,
  type PathSegment,
  parsePath,
  parseTemplate,
  printExpression,
  setPath,
} from "../../lib/core/expr/index.ts";
import { jsonData, shapedData, templateSource } from "./arbitraries.ts";
import { FULL_CONTEXT, referenceShard, render } from "./helpers.ts";

const RUNS = 300;

/** The tree without source spans, which legitimately differ after printing. */
function shape(expression: Expression): unknown {
  return JSON.parse(
    JSON.stringify(expression, (key, value: unknown) =>
      key === "offset" || key === "length" || key === "nameSpan" ? undefined : value,
    ),
  );
}

function expressionsOf(source: string): Expression[] {
  return parseTemplate(source).parts.flatMap((part) =>
    typeof part === "string" ? [] : [part.expression],
  );
}

type Outcome = { readonly value: JsonValue } | { readonly code: string; readonly reason: string };

function outcome(run: () => JsonValue): Outcome {
  try {
    return { value: run() };
  } catch (error) {
    assert.ok(error instanceof ExpressionError, `unexpected ${String(error)}`);
    return { code: error.code, reason: error.reason };
  }
}

describe("generated expressions", () => {
  it("print then parse gives back the same tree", () => {
    fc.assert(
      fc.property(templateSource, (source) => {
        let expressions: Expression[];
        try {
          expressions = expressionsOf(source);
        } catch (error) {
          assert.ok(error instanceof ExpressionError);
          return;
        }
        for (const expression of expressions) {
          const printed = printExpression(expression);
          const [reparsed] = expressionsOf(`{{ ${printed} }}`);
          assert.ok(reparsed !== undefined);
          assert.deepEqual(shape(reparsed), shape(expression));
          assert.equal(printExpression(reparsed), printed);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("most generated templates parse", () => {
    let parsed = 0;
    fc.assert(
      fc.property(templateSource, (source) => {
        try {
          parseTemplate(source);
          parsed++;
        } catch (error) {
          assert.ok(error instanceof ExpressionError);
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(parsed > RUNS * 0.8, `only ${parsed} of ${RUNS} parsed`);
  });

  it("evaluation is deterministic and yields plain JSON", () => {
    fc.assert(
      fc.property(templateSource, shapedData, (source, data) => {
        let template: ReturnType<typeof parseTemplate>;
        try {
          template = parseTemplate(source);
        } catch (error) {
          assert.ok(error instanceof ExpressionError);
          return;
        }
        const context = { ...FULL_CONTEXT, data };
        const first = outcome(() => evaluateTemplate(template, context));
        const second = outcome(() => evaluateTemplate(template, context));
        assert.deepEqual(second, first);
        if ("value" in first) {
          assert.deepEqual(JSON.parse(JSON.stringify(first.value)), first.value);
          if (template.kind === "mixed") assert.equal(typeof first.value, "string");
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("the printed form evaluates like the original", () => {
    fc.assert(
      fc.property(templateSource, shapedData, (source, data) => {
        let template: ReturnType<typeof parseTemplate>;
        try {
          template = parseTemplate(source);
        } catch {
          return;
        }
        for (const part of template.parts) {
          if (typeof part === "string") continue;
          const original = source.slice(part.offset, part.offset + part.length);
          const printed = `{{ ${printExpression(part.expression)} }}`;
          const before = outcome(() => render(original, data));
          const after = outcome(() => render(printed, data));
          if ("value" in before) assert.deepEqual(after, before);
          else
            assert.ok(
              "code" in after && after.code === before.code,
              `${printed}: ${JSON.stringify(after)}`,
            );
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("algebraic properties", () => {
  it("not not x is the truthiness of x", () => {
    fc.assert(
      fc.property(jsonData, (x) => {
        assert.equal(render("{{ not not $.x }}", { x }), isTruthy(x));
        assert.equal(render("{{ !$.x }}", { x }), !isTruthy(x));
      }),
      { numRuns: RUNS },
    );
  });

  it("De Morgan: not (a and b) == (not a or not b)", () => {
    fc.assert(
      fc.property(jsonData, jsonData, (a, b) => {
        assert.equal(render("{{ not ($.a and $.b) == (not $.a or not $.b) }}", { a, b }), true);
      }),
      { numRuns: RUNS },
    );
  });

  it("+ commutes for numbers", () => {
    const number = fc.oneof(fc.integer(), fc.double({ min: -1e300, max: 1e300, noNaN: true }));
    fc.assert(
      fc.property(number, number, (a, b) => {
        assert.equal(render("{{ $.a + $.b == $.b + $.a }}", { a, b }), true);
      }),
      { numRuns: RUNS },
    );
  });

  it("== is reflexive on structurally equal copies, and agrees with node's deep equality", () => {
    fc.assert(
      fc.property(jsonData, jsonData, (a, b) => {
        assert.equal(render("{{ $.a == $.b }}", { a, b: structuredClone(a) }), true);
        let same = true;
        try {
          assert.deepEqual(a, b);
        } catch {
          same = false;
        }
        assert.equal(render("{{ $.a == $.b }}", { a, b }), same);
      }),
      { numRuns: RUNS },
    );
  });

  it("($.a | length) is the array's length, the string's code points, the object's keys", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.array(jsonData, { maxLength: 10 }), fc.string({ unit: "binary" })),
        (a) => {
          const expected = typeof a === "string" ? [...a].length : a.length;
          assert.equal(render("{{ $.a | length }}", { a }), expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("json is JSON.stringify; string of a string is itself", () => {
    fc.assert(
      fc.property(jsonData, fc.string({ unit: "binary" }), (a, s) => {
        assert.equal(render("{{ $.a | json }}", { a }), JSON.stringify(a));
        assert.equal(render("{{ $.s | string }}", { s }), s);
        assert.equal(render("<{{ $.s }}>", { s }), `<${s}>`);
      }),
      { numRuns: RUNS },
    );
  });

  it("sort orders a permutation; unique keeps distinct elements in first-seen order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 30 }), (list) => {
        const sorted = render("{{ $.list | sort }}", { list }) as number[];
        assert.deepEqual(
          sorted,
          [...list].sort((x, y) => x - y),
        );
        assert.deepEqual(render("{{ $.list | unique }}", { list }), [...new Set(list)]);
        assert.equal(render("{{ ($.list | reverse | reverse) == $.list }}", { list }), true);
      }),
      { numRuns: RUNS },
    );
  });

  it("shard agrees with an independent FNV-1a for any text and count", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.integer({ min: 1, max: 100_000 }),
        (text, count) => {
          assert.equal(
            render("{{ $.t | shard($.c) }}", { t: text, c: count }),
            referenceShard(text, count),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("result path properties", () => {
  const segment: fc.Arbitrary<PathSegment> = fc.oneof(
    fc
      .string({ unit: "binary", maxLength: 8 })
      .filter((key) => !["__proto__", "constructor", "prototype"].includes(key)),
    fc.constantFrom("a", "b", "$x", "_", "odd key"),
    fc.nat({ max: 20 }),
  );
  const path = fc.array(segment, { maxLength: 6 });

  it("parsePath(formatPath(p)) is p and formatPath(parsePath(s)) is s", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(segment, fc.nat({ max: MAX_ARRAY_LENGTH - 1 })), { maxLength: 6 }),
        (segments) => {
          const text = formatPath(segments);
          assert.deepEqual(parsePath(text), segments);
          assert.equal(formatPath(parsePath(text)), text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a formatted path read as an expression gives getPath's value", () => {
    fc.assert(
      fc.property(jsonData, path, (data, segments) => {
        assert.deepEqual(
          render(`{{ ${formatPath(segments)} }}`, data),
          getPath(data, segments) ?? null,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("setPath then getPath returns the value, and the input is unchanged", () => {
    fc.assert(
      fc.property(jsonData, path, jsonData, (data, segments, value) => {
        const before = structuredClone(data);
        let result: JsonValue;
        try {
          result = setPath(data, segments, value);
        } catch (error) {
          assert.ok(error instanceof ExpressionError);
          assert.equal(error.code, "EXPR_PATH");
          return;
        }
        assert.deepEqual(data, before);
        assert.deepEqual(getPath(result, segments), value);
        assert.deepEqual(JSON.parse(JSON.stringify(result)), result);
      }),
      { numRuns: RUNS },
    );
  });

  it("setPath succeeds on objects and arrays built for the path", () => {
    fc.assert(
      fc.property(path, jsonData, (segments, value) => {
        const result = setPath(null, segments, value);
        assert.deepEqual(getPath(result, segments), value);
      }),
      { numRuns: RUNS },
    );
  });
});
