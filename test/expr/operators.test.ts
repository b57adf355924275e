import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTruthy } from "../../lib/core/expr/index.ts";
import { assertEvalError, assertParseError, evaluate } from "./helpers.ts";

describe("literals", () => {
  it("numbers: integers, decimals, exponents", () => {
    assert.equal(evaluate("42"), 42);
    assert.equal(evaluate("0.25"), 0.25);
    assert.equal(evaluate("1e3"), 1000);
    assert.equal(evaluate("2.5E-1"), 0.25);
    assert.equal(evaluate("1e+2"), 100);
  });

  it("strings with escapes", () => {
    assert.equal(evaluate("'it\\'s'"), "it's");
    assert.equal(evaluate('"say \\"hi\\""'), 'say "hi"');
    assert.equal(evaluate("'a\\\\b'"), "a\\b");
    assert.equal(evaluate("'l1\\nl2\\tx'"), "l1\nl2\tx");
    assert.equal(evaluate("'\\u00e9\\u20AC'"), "é€");
    assert.equal(evaluate("'mixed \"quotes\"'"), 'mixed "quotes"');
  });

  it("true, false, null, arrays", () => {
    assert.equal(evaluate("true"), true);
    assert.equal(evaluate("false"), false);
    assert.equal(evaluate("null"), null);
    assert.deepEqual(evaluate("[]"), []);
    assert.deepEqual(evaluate("[1, 'a', $.x, [true]]", { x: { y: 1 } }), [
      1,
      "a",
      { y: 1 },
      [true],
    ]);
  });

  it("malformed literals are syntax errors with an offset", () => {
    assertParseError("{{ 'abc }}", {
      code: "EXPR_SYNTAX",
      offset: 3,
      reason: /unterminated string/,
    });
    assertParseError("{{ 'a\\qb' }}", {
      code: "EXPR_SYNTAX",
      offset: 5,
      length: 2,
      reason: /escape/,
    });
    assertParseError("{{ '\\u12' }}", { code: "EXPR_SYNTAX", offset: 4 });
    assertParseError("{{ 1e }}", { code: "EXPR_SYNTAX", offset: 3, reason: /exponent/ });
    assertParseError("{{ 1e999 }}", {
      code: "EXPR_SYNTAX",
      offset: 3,
      length: 5,
      reason: /too large/,
    });
    assertParseError("{{ [1, 2 }}", { code: "EXPR_SYNTAX", offset: 9 });
    assertParseError("{{ [1,] }}", { code: "EXPR_SYNTAX", offset: 6 });
    assertParseError("{{ {'a': 1} }}", { code: "EXPR_SYNTAX", offset: 3 });
  });
});

describe("truthiness", () => {
  it("false, null, 0, '', [] and {} are falsy; everything else is truthy", () => {
    for (const value of [false, null, 0, -0, "", [], {}]) assert.equal(isTruthy(value), false);
    for (const value of [true, 1, -1, 0.5, "0", "false", " ", [0], [null], { a: null }]) {
      assert.equal(isTruthy(value), true, JSON.stringify(value));
    }
  });

  it("an object whose only own key is __proto__ is truthy", () => {
    assert.equal(isTruthy(JSON.parse('{"__proto__": 1}')), true);
  });
});

describe("boolean operators", () => {
  it("and / && and or / || return booleans by truthiness", () => {
    assert.equal(evaluate("1 and 'x'"), true);
    assert.equal(evaluate("1 && 0"), false);
    assert.equal(evaluate("0 or ''"), false);
    assert.equal(evaluate("null || [1]"), true);
    assert.equal(evaluate("$.a or $.b", { b: "yes" }), true);
  });

  it("short-circuit: the right operand is not evaluated", () => {
    assert.equal(evaluate("false and 1 / 0"), false);
    assert.equal(evaluate("true or 1 / 0"), true);
    assert.equal(evaluate("$.list and $.list[0] > 1", { list: [] }), false);
  });

  it("not / ! return booleans", () => {
    assert.equal(evaluate("not 0"), true);
    assert.equal(evaluate("!'x'"), false);
    assert.equal(evaluate("not not []"), false);
    assert.equal(evaluate("!!$", {}), false);
  });

  it("not binds looser than comparisons, tighter than and", () => {
    assert.equal(evaluate("not 1 == 2"), true);
    assert.equal(evaluate("not true and false"), false);
    assert.equal(evaluate("not (true and false)"), true);
    assert.equal(evaluate("true or true and false"), true);
    assert.equal(evaluate("(true or true) and false"), false);
  });
});

describe("equality", () => {
  it("is deep and structural, without coercion", () => {
    assert.equal(evaluate("1 == 1.0"), true);
    assert.equal(evaluate("1 == '1'"), false);
    assert.equal(evaluate("0 == false"), false);
    assert.equal(evaluate("null == $.missing"), true);
    assert.equal(
      evaluate("$.a == $.b", { a: { x: [1, { y: 2 }] }, b: { x: [1, { y: 2 }] } }),
      true,
    );
    assert.equal(evaluate("$.a == $.b", { a: { x: 1, y: 2 }, b: { y: 2, x: 1 } }), true);
    assert.equal(evaluate("$.a == $.b", { a: { x: 1 }, b: { x: 1, y: 2 } }), false);
    assert.equal(evaluate("[1, 2] == [2, 1]"), false);
    assert.equal(evaluate("[1, [2]] != [1, [2]]"), false);
    assert.equal(evaluate("'a' != 'b'"), true);
    assert.equal(evaluate("$.a == $.b", { a: [], b: {} }), false);
  });
});

describe("ordering comparisons", () => {
  it("compare two numbers or two strings", () => {
    assert.equal(evaluate("1 < 2"), true);
    assert.equal(evaluate("2 <= 2"), true);
    assert.equal(evaluate("3 > 2.5"), true);
    assert.equal(evaluate("-1 >= 0"), false);
    assert.equal(evaluate("'apple' < 'banana'"), true);
    assert.equal(evaluate("'Z' < 'a'"), true);
    assert.equal(evaluate("'b' >= 'ab'"), true);
  });

  it("anything else is a type error", () => {
    assertEvalError(
      "$.n < null",
      { code: "EXPR_TYPE", reason: /^cannot compare number with null$/ },
      { n: 1 },
    );
    assertEvalError("1 < '2'", {
      code: "EXPR_TYPE",
      reason: /number with string/,
      offset: 3,
      length: 7,
    });
    assertEvalError("[1] > [0]", { code: "EXPR_TYPE", reason: /array with array/ });
    assertEvalError("true >= false", { code: "EXPR_TYPE" });
  });

  it("comparisons do not chain", () => {
    assertParseError("{{ 1 < 2 < 3 }}", {
      code: "EXPR_SYNTAX",
      offset: 9,
      length: 1,
      reason: /chained/,
    });
    assertParseError("{{ 1 == 1 == true }}", { code: "EXPR_SYNTAX", offset: 10 });
    assertParseError("{{ 'a' in 'ab' in ['a'] }}", { code: "EXPR_SYNTAX", offset: 15 });
  });
});

describe("membership", () => {
  it("in an array by deep equality", () => {
    assert.equal(evaluate("2 in [1, 2]"), true);
    assert.equal(evaluate("[2] in [[1], [2]]"), true);
    assert.equal(evaluate("$.o in $.list", { o: { a: 1 }, list: [{ a: 1 }] }), true);
    assert.equal(evaluate("'2' in [1, 2]"), false);
  });

  it("in a string as a substring", () => {
    assert.equal(evaluate("'ell' in 'hello'"), true);
    assert.equal(evaluate("'' in 'x'"), true);
    assert.equal(evaluate("'z' in 'hello'"), false);
  });

  it("in an object as an own key", () => {
    assert.equal(evaluate("'a' in $", { a: null }), true);
    assert.equal(evaluate("'b' in $", { a: null }), false);
    assert.equal(evaluate("'toString' in $", {}), false);
    assert.equal(evaluate("'__proto__' in $", {}), false);
  });

  it("not in is the negation", () => {
    assert.equal(evaluate("3 not in [1, 2]"), true);
    assert.equal(evaluate("'e' not in 'hello'"), false);
    assert.equal(evaluate("not 'e' in 'hello'"), false);
  });

  it("anything else is a type error", () => {
    assertEvalError("1 in 'abc'", { code: "EXPR_TYPE", reason: /on a string needs a string/ });
    assertEvalError("1 in $", { code: "EXPR_TYPE", reason: /on an object needs a string key/ }, {});
    assertEvalError("1 in 5", { code: "EXPR_TYPE", reason: /got number/ });
    assertEvalError("1 not in null", { code: "EXPR_TYPE", reason: /'not in'/ });
  });
});

describe("arithmetic", () => {
  it("+ adds numbers and concatenates strings and arrays", () => {
    assert.equal(evaluate("1 + 2"), 3);
    assert.equal(evaluate("'a' + 'b'"), "ab");
    assert.deepEqual(evaluate("[1] + [2, 3]"), [1, 2, 3]);
  });

  it("+ of mixed types is a type error", () => {
    assertEvalError("1 + '1'", { code: "EXPR_TYPE", reason: /got number and string/ });
    assertEvalError("'a' + null", { code: "EXPR_TYPE" });
    assertEvalError("[1] + 1", { code: "EXPR_TYPE" });
  });

  it("- * / % on numbers", () => {
    assert.equal(evaluate("5 - 7"), -2);
    assert.equal(evaluate("3 * 4"), 12);
    assert.equal(evaluate("7 / 2"), 3.5);
    assert.equal(evaluate("7 % 3"), 1);
    assert.equal(evaluate("-7 % 3"), -1);
    assert.equal(evaluate("5.5 % 2"), 1.5);
  });

  it("- * / % of non-numbers are type errors", () => {
    for (const expression of ["'a' - 1", "1 * null", "[1] / 1", "true % 2"]) {
      assertEvalError(expression, { code: "EXPR_TYPE", reason: /needs two numbers/ });
    }
  });

  it("division and modulo by zero", () => {
    assertEvalError("1 / 0", {
      code: "EXPR_DIVISION_BY_ZERO",
      offset: 3,
      length: 5,
      reason: /^division by zero$/,
    });
    assertEvalError("1 % $.z", { code: "EXPR_DIVISION_BY_ZERO", reason: /modulo/ }, { z: 0 });
  });

  it("non-finite results are type errors", () => {
    assertEvalError("1e308 * 10", { code: "EXPR_TYPE", reason: /finite/ });
    assertEvalError("-1e308 - 1e308", { code: "EXPR_TYPE", reason: /finite/ });
  });

  it("unary minus", () => {
    assert.equal(evaluate("-3"), -3);
    assert.equal(evaluate("--3"), 3);
    assert.equal(evaluate("-$.n", { n: 2 }), -2);
    assert.ok(Object.is(evaluate("-0"), 0), "-0 is normalized to 0");
    assert.ok(Object.is(evaluate("0 * -1"), 0), "-0 is normalized to 0");
    assertEvalError("-'a'", { code: "EXPR_TYPE", reason: /unary '-' needs a number, got string/ });
  });

  it("precedence: * / % over + -, unary minus over *, left associative", () => {
    assert.equal(evaluate("1 + 2 * 3"), 7);
    assert.equal(evaluate("(1 + 2) * 3"), 9);
    assert.equal(evaluate("10 - 4 - 3"), 3);
    assert.equal(evaluate("12 / 3 / 2"), 2);
    assert.equal(evaluate("-2 * 3 + 1"), -5);
    assert.equal(evaluate("2 + 3 > 4"), true);
    assert.equal(evaluate("1 + 1 == 2 and 2 * 2 == 4"), true);
  });
});

describe("filters bind tightest", () => {
  it("$.items | length > 0 is ($.items | length) > 0", () => {
    assert.equal(evaluate("$.items | length > 0", { items: [1] }), true);
    assert.equal(evaluate("$.items | length > 0", { items: [] }), false);
  });

  it("-x | abs is -(x | abs)", () => {
    assert.equal(evaluate("-$.x | abs", { x: -3 }), -3);
    assert.equal(evaluate("(-$.x) | abs", { x: 3 }), 3);
  });

  it("a + b | f applies f to b only", () => {
    assert.equal(evaluate("1 + $.s | length", { s: "abc" }), 4);
  });

  it("filters chain left to right", () => {
    assert.equal(evaluate("$.s | trim | upper | length", { s: "  ab " }), 2);
  });
});
