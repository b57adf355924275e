import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ExpressionError,
  type ExpressionErrorCode,
  evaluateTemplate,
  MAX_ARRAY_LENGTH,
  MAX_EVALUATION_STEPS,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_STRING_LENGTH,
  parsePath,
  parseTemplate,
} from "../../lib/core/expr/index.ts";
import {
  assertEvalError,
  assertExpressionError,
  assertParseError,
  evaluate,
  render,
} from "./helpers.ts";

function succeeds(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    assert.ok(error instanceof ExpressionError);
    return false;
  }
}

describe("ExpressionError", () => {
  it("carries code, source, offset, length, reason, suggestion; message is reason in source", () => {
    const error = assertParseError("x {{ $.a | shrad }}", { code: "EXPR_UNKNOWN_FILTER" });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "ExpressionError");
    assert.equal(error.source, "x {{ $.a | shrad }}");
    assert.equal(error.offset, 11);
    assert.equal(error.length, 5);
    assert.equal(error.reason, "unknown filter 'shrad'; did you mean 'shard'?");
    assert.equal(error.suggestion, "shard");
    assert.equal(error.valuePath, undefined);
    assert.equal(
      error.message,
      `unknown filter 'shrad'; did you mean 'shard'? in "x {{ $.a | shrad }}"`,
    );
    assert.ok(!error.reason.includes("\n"));
  });

  it("withValuePath copies everything and adds the value path", () => {
    const error = new ExpressionError("EXPR_TYPE", "bad", {
      source: "s",
      offset: 1,
      length: 2,
      suggestion: "x",
    });
    const located = error.withValuePath("a.b");
    assert.equal(located.valuePath, "a.b");
    assert.deepEqual(
      [
        located.code,
        located.source,
        located.offset,
        located.length,
        located.reason,
        located.suggestion,
      ],
      ["EXPR_TYPE", "s", 1, 2, "bad", "x"],
    );
  });

  it("evaluation errors point at the failing expression in the whole template", () => {
    const source = "total: {{ $.a + 1 }} and {{ $.b / 0 }}";
    const error = assertExpressionError(() => render(source, { a: 1, b: 2 }), {
      code: "EXPR_DIVISION_BY_ZERO",
    });
    assert.equal(
      source.slice(error.offset ?? 0, (error.offset ?? 0) + (error.length ?? 0)),
      "$.b / 0",
    );
  });

  it("filter errors point at the filter", () => {
    const source = "{{ $.a | upper }}";
    const error = assertExpressionError(() => render(source, { a: 1 }), { code: "EXPR_TYPE" });
    assert.equal(
      source.slice(error.offset ?? 0, (error.offset ?? 0) + (error.length ?? 0)),
      "upper",
    );
  });

  it("every error code can be raised", () => {
    const seen = new Set<ExpressionErrorCode>();
    const cases: [() => unknown, ExpressionErrorCode][] = [
      [() => parseTemplate("{{ 1 + }}"), "EXPR_SYNTAX"],
      [() => parseTemplate("{{ wokflow.id }}"), "EXPR_UNKNOWN_ROOT"],
      [() => parseTemplate("{{ state.attempts }}"), "EXPR_UNKNOWN_FIELD"],
      [() => parseTemplate("{{ $ | shrad }}"), "EXPR_UNKNOWN_FILTER"],
      [() => parseTemplate("{{ $.constructor }}"), "EXPR_FORBIDDEN_KEY"],
      [() => evaluate("1 < 'a'"), "EXPR_TYPE"],
      [() => parseTemplate("{{ $ | default }}"), "EXPR_ARGUMENT"],
      [() => evaluate("1 % 0"), "EXPR_DIVISION_BY_ZERO"],
      [() => evaluate("$ | sort", [1, 2, 3], { budget: 2 }), "EXPR_BUDGET"],
      [() => parsePath("$.a[*]"), "EXPR_PATH"],
    ];
    for (const [run, code] of cases) {
      assertExpressionError(run, { code });
      seen.add(code);
    }
    assert.equal(seen.size, 10);
  });
});

describe("syntax errors", () => {
  it("report the offending token", () => {
    assertParseError("{{ 1 + }}", {
      code: "EXPR_SYNTAX",
      offset: 7,
      length: 2,
      reason: /expected an expression, found '}}'/,
    });
    assertParseError("{{ $.a $.b }}", {
      code: "EXPR_SYNTAX",
      offset: 7,
      length: 1,
      reason: /expected an operator or '}}'/,
    });
    assertParseError("{{ (1 + 2 }}", { code: "EXPR_SYNTAX", offset: 10, reason: /expected '\)'/ });
    assertParseError("{{ $. }}", { code: "EXPR_SYNTAX", offset: 6 });
    assertParseError("{{ $.0 }}", { code: "EXPR_SYNTAX", offset: 5, reason: /\[0\]/ });
    assertParseError("{{ $.a and }}", { code: "EXPR_SYNTAX", offset: 11 });
    assertParseError("{{ and }}", { code: "EXPR_SYNTAX", offset: 3, reason: /found 'and'/ });
    assertParseError("{{ 1 == not 2 }}", { code: "EXPR_SYNTAX", offset: 8 });
    assertParseError("{{ $.a[ }}", { code: "EXPR_SYNTAX", offset: 8 });
    assertParseError("{{ $.a[*.b] }}", { code: "EXPR_SYNTAX", offset: 7 });
  });

  it("suggest == for = and && for &", () => {
    assertParseError("{{ $.a = 1 }}", {
      code: "EXPR_SYNTAX",
      offset: 7,
      length: 1,
      suggestion: "==",
    });
    assertParseError("{{ $.a & $.b }}", { code: "EXPR_SYNTAX", offset: 7, suggestion: "&&" });
  });

  it("describe non-ASCII characters by code point", () => {
    assertParseError("{{ 1 \u00a0 }}", { code: "EXPR_SYNTAX", offset: 5, reason: /U\+00A0/ });
    assertParseError("{{ 😀 }}", { code: "EXPR_SYNTAX", offset: 3, length: 1, reason: /U\+D83D/ });
  });

  it("quote long tokens briefly", () => {
    const name = "x".repeat(200);
    const error = assertParseError(`{{ 1 ${name} }}`, { code: "EXPR_SYNTAX" });
    assert.ok(error.reason.length < 120, error.reason);
  });
});

describe("safety", () => {
  it("forbidden keys are rejected at parse time", () => {
    assertParseError("{{ $.constructor }}", {
      code: "EXPR_FORBIDDEN_KEY",
      offset: 5,
      length: 11,
      reason: /'constructor'/,
    });
    assertParseError("{{ $['__proto__'] }}", { code: "EXPR_FORBIDDEN_KEY", offset: 5, length: 11 });
    assertParseError("{{ $.a.prototype }}", { code: "EXPR_FORBIDDEN_KEY", offset: 7 });
    assertParseError("{{ workflow.input.__proto__ }}", { code: "EXPR_FORBIDDEN_KEY" });
    assertParseError("{{ workflow.constructor }}", { code: "EXPR_FORBIDDEN_KEY" });
    assertParseError("{{ map.item[*].constructor }}", { code: "EXPR_FORBIDDEN_KEY" });
  });

  it("computed forbidden keys are rejected at evaluation", () => {
    assertEvalError(
      "$[$.k]",
      { code: "EXPR_FORBIDDEN_KEY", offset: 4, length: 5 },
      { k: "__proto__" },
    );
    assertEvalError("$.a[$.k]", { code: "EXPR_FORBIDDEN_KEY" }, { a: {}, k: "constructor" });
    assertEvalError("$[('proto' + 'type')]", { code: "EXPR_FORBIDDEN_KEY" }, {});
  });

  it("inherited properties are never read", () => {
    assert.equal(evaluate("$.toString"), null);
    assert.equal(evaluate("$.a.valueOf", { a: {} }), null);
    assert.equal(evaluate("$.s.length", { s: "abc" }), null);
    assert.equal(evaluate("$[$.k]", { k: "hasOwnProperty" }), null);
    assert.equal(evaluate("$.list[$.k]", { list: [1], k: "length" }), null);
  });

  it("own keys named like prototypes in hostile data are data, never prototypes", () => {
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}',
    );
    assert.deepEqual(evaluate("$ | keys", hostile), ["__proto__", "constructor"]);
    assert.deepEqual(evaluate("$ | values", hostile), [{ polluted: true }, { prototype: 1 }]);
    assert.equal(evaluate("'__proto__' in $", hostile), true);
    assert.equal(evaluate("$ | length", hostile), 2);
    assert.equal(
      evaluate("$ | json", hostile),
      '{"__proto__":{"polluted":true},"constructor":{"prototype":1}}',
    );
    assert.equal(evaluate("$ == $", hostile), true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe("limits", () => {
  it("the default budget is MAX_EVALUATION_STEPS", () => {
    assert.equal(MAX_EVALUATION_STEPS, 100_000);
    const big = { list: Array.from({ length: 40_000 }, (_, i) => i) };
    assert.equal(evaluate("$.list | sum", big), (40_000 * 39_999) / 2);
    assertEvalError(
      "($.list + $.list) | sum",
      { code: "EXPR_BUDGET", reason: /100000 steps/ },
      big,
    );
  });

  it("a budget is a non-negative integer", () => {
    const template = parseTemplate("{{ 1 }}");
    assert.equal(evaluateTemplate(template, { data: null }, { budget: 1 }), 1);
    assertExpressionError(() => evaluateTemplate(template, { data: null }, { budget: 0 }), {
      code: "EXPR_BUDGET",
    });
    for (const budget of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assertExpressionError(() => evaluateTemplate(template, { data: null }, { budget }), {
        code: "EXPR_ARGUMENT",
      });
    }
  });

  it("every element touched costs a step", () => {
    const data = { list: Array.from({ length: 1_000 }, (_, i) => ({ id: i })) };
    assert.equal((evaluate("$.list[*].id", data, { budget: 3_000 }) as unknown[]).length, 1_000);
    assertExpressionError(() => evaluate("$.list[*].id", data, { budget: 1_500 }), {
      code: "EXPR_BUDGET",
    });
    assertExpressionError(() => evaluate("$.list == $.list + []", data, { budget: 2_000 }), {
      code: "EXPR_BUDGET",
    });
  });

  it("one budget covers every expression of a mixed template", () => {
    const single = parseTemplate("x{{ 1 }}");
    let cost = 0;
    while (!succeeds(() => evaluateTemplate(single, { data: null }, { budget: cost }))) cost++;
    const triple = parseTemplate("x{{ 1 }}x{{ 1 }}x{{ 1 }}");
    assert.equal(evaluateTemplate(triple, { data: null }, { budget: 3 * cost }), "x1x1x1");
    assertExpressionError(
      () => evaluateTemplate(triple, { data: null }, { budget: 3 * cost - 1 }),
      {
        code: "EXPR_BUDGET",
      },
    );
  });

  it("strings longer than MAX_STRING_LENGTH are refused", () => {
    const half = "x".repeat(MAX_STRING_LENGTH / 2 + 1);
    assertEvalError("$.s + $.s", { code: "EXPR_BUDGET", reason: /string/ }, { s: half });
    assertEvalError("[$.s, $.s] | join('')", { code: "EXPR_BUDGET" }, { s: half });
    assertEvalError("$ | json", { code: "EXPR_BUDGET" }, [half, half]);
    assertExpressionError(() => render("{{ $.s }}{{ $.s }}", { s: half }), {
      code: "EXPR_BUDGET",
      offset: 9,
      length: 9,
    });
  });

  it("arrays longer than MAX_ARRAY_LENGTH are refused", () => {
    const list = Array.from({ length: MAX_ARRAY_LENGTH / 2 + 1 }, () => 0);
    assertEvalError("$ + $", { code: "EXPR_BUDGET", reason: /array/ }, list);
    const text = ",".repeat(MAX_ARRAY_LENGTH);
    assertExpressionError(() => evaluate("$ | split(',')", text, { budget: 10 ** 7 }), {
      code: "EXPR_BUDGET",
      reason: /array/,
    });
    const nested = { m: [list, list] };
    assertExpressionError(() => evaluate("$.m[*][*]", nested, { budget: 10 ** 7 }), {
      code: "EXPR_BUDGET",
      reason: /array/,
    });
  });

  it("expressions longer than MAX_EXPRESSION_LENGTH are refused", () => {
    const long = `{{ ${" ".repeat(MAX_EXPRESSION_LENGTH)}1 }}`;
    assertParseError(long, {
      code: "EXPR_BUDGET",
      offset: 0,
      length: 2,
      reason: /longer than 10000/,
    });
    const longString = `x {{ '${"a".repeat(MAX_EXPRESSION_LENGTH)}' }}`;
    assertParseError(longString, { code: "EXPR_BUDGET", offset: 2 });
    assert.equal(render(`${"a".repeat(50_000)}{{ 1 }}`), `${"a".repeat(50_000)}1`);
  });

  it("nesting deeper than MAX_NESTING_DEPTH is refused without overflowing the stack", () => {
    const depth = MAX_NESTING_DEPTH;
    assert.equal(evaluate(`${"(".repeat(depth - 2)}1${")".repeat(depth - 2)}`), 1);
    for (const source of [
      `{{ ${"(".repeat(5_000)}1${")".repeat(5_000)} }}`,
      `{{ ${"[".repeat(5_000)}${"]".repeat(5_000)} }}`,
      `{{ ${"!".repeat(9_000)}1 }}`,
      `{{ ${"-".repeat(9_000)}1 }}`,
      `{{ ${"not ".repeat(2_000)}1 }}`,
      `{{ 1${" + 1".repeat(2_000)} }}`,
      `{{ $${"[$".repeat(3_000)}${"]".repeat(3_000)} }}`,
      `{{ 1${" | abs".repeat(1_500)} }}`,
    ]) {
      assertParseError(source, { code: "EXPR_BUDGET", reason: /nested more than 64 levels/ });
    }
  });

  it("values nested deeper than the walk limit are refused, not overflowed", () => {
    const nest = (): unknown => {
      let deep: unknown = 1;
      for (let i = 0; i < 10_000; i++) deep = [deep];
      return deep;
    };
    const data = nest() as never;
    assertEvalError("$ | json", { code: "EXPR_BUDGET", reason: /nested deeper/ }, data);
    assertEvalError("$[0] == $[1]", { code: "EXPR_BUDGET" }, [nest(), nest()] as never);
    assertEvalError("[$] | unique", { code: "EXPR_BUDGET" }, data);
    assertExpressionError(() => render("x{{ $ }}", data), { code: "EXPR_BUDGET" });
    assert.equal(evaluate("$ == $", data), true, "the same value is equal without a walk");
  });
});
