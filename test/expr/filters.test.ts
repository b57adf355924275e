import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fnv1a32, roundHalfAwayFromZero } from "../../lib/core/expr/filters.ts";
import { FILTER_NAMES } from "../../lib/core/expr/index.ts";
import {
  assertEvalError,
  assertParseError,
  evaluate,
  referenceFnv1a,
  referenceShard,
} from "./helpers.ts";

describe("FILTER_NAMES", () => {
  it("lists every filter", () => {
    assert.deepEqual([...FILTER_NAMES].sort(), [
      "abs",
      "ceil",
      "contains",
      "default",
      "first",
      "floor",
      "join",
      "json",
      "keys",
      "last",
      "length",
      "lower",
      "max",
      "min",
      "number",
      "reverse",
      "round",
      "shard",
      "sort",
      "split",
      "string",
      "sum",
      "trim",
      "unique",
      "upper",
      "values",
    ]);
  });
});

describe("shard", () => {
  it("FNV-1a 32 matches the published test vectors", () => {
    assert.equal(fnv1a32(""), 0x811c9dc5);
    assert.equal(fnv1a32("a"), 0xe40c292c);
    assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  });

  it("FNV-1a 32 matches an independent BigInt implementation over UTF-8", () => {
    for (const text of [
      "c-42",
      "customer-1",
      "é",
      "€uro",
      "😀 emoji",
      "\ud800 lone",
      "x".repeat(300),
    ]) {
      assert.equal(BigInt(fnv1a32(text)), referenceFnv1a(text), text);
    }
  });

  it("is shard-K with K = FNV-1a of the string form modulo n (default 10)", () => {
    const cases: [string, unknown, string][] = [
      ["c-42", "c-42", referenceShard("c-42")],
      ["customer-1", "customer-1", referenceShard("customer-1")],
      ["naïve", "naïve", referenceShard("naïve")],
      ["", "", "shard-1"],
    ];
    for (const [label, value, expected] of cases) {
      assert.equal(evaluate("$.v | shard", { v: value as string }), expected, label);
    }
    assert.equal(referenceShard(""), "shard-1");
    assert.equal(evaluate("$.v | shard(1000)", { v: "c-42" }), referenceShard("c-42", 1000));
    assert.equal(evaluate("$.v | shard(1)", { v: "anything" }), "shard-0");
  });

  it("hashes non-strings by their JSON text", () => {
    assert.equal(evaluate("$.v | shard(97)", { v: 12345 }), referenceShard("12345", 97));
    assert.equal(
      evaluate("$.v | shard(97)", { v: { a: [1, true] } }),
      referenceShard('{"a":[1,true]}', 97),
    );
    assert.equal(evaluate("$.missing | shard"), referenceShard("null"));
  });

  it("the shard count must be an integer from 1 to 100000", () => {
    assertParseError("{{ $.v | shard(0) }}", {
      code: "EXPR_ARGUMENT",
      offset: 9,
      length: 8,
      reason: /got 0/,
    });
    assertParseError("{{ $.v | shard(100001) }}", { code: "EXPR_ARGUMENT" });
    assertParseError("{{ $.v | shard(2.5) }}", { code: "EXPR_ARGUMENT" });
    assertParseError("{{ $.v | shard(-2) }}", { code: "EXPR_ARGUMENT", reason: /got -2/ });
    assertParseError("{{ $.v | shard('4') }}", { code: "EXPR_ARGUMENT", reason: /got string/ });
    assertEvalError(
      "$.v | shard($.n)",
      { code: "EXPR_ARGUMENT", offset: 9, length: 10 },
      { v: "x", n: 0 },
    );
    assert.equal(evaluate("$.v | shard($.n)", { v: "x", n: 7 }), referenceShard("x", 7));
    assert.equal(evaluate("$.v | shard(100000)", { v: "x" }), referenceShard("x", 100000));
  });
});

describe("length", () => {
  it("counts code points of strings, elements of arrays, keys of objects", () => {
    assert.equal(evaluate("'héllo' | length"), 5);
    assert.equal(evaluate("$.s | length", { s: "😀a" }), 2);
    assert.equal(evaluate("[1, [2, 3]] | length"), 2);
    assert.equal(evaluate("$ | length", { a: 1, b: 2 }), 2);
    assert.equal(evaluate("'' | length"), 0);
  });

  it("rejects other types", () => {
    assertEvalError("$.missing | length", {
      code: "EXPR_TYPE",
      reason: /'length' needs a string, an array or an object, got null/,
    });
    assertEvalError("5 | length", { code: "EXPR_TYPE", offset: 7, length: 6 });
  });
});

describe("default", () => {
  it("replaces null only", () => {
    assert.equal(evaluate("$.missing | default('x')"), "x");
    assert.equal(evaluate("$.n | default(5)", { n: 0 }), 0);
    assert.equal(evaluate("$.s | default('x')", { s: "" }), "");
    assert.deepEqual(evaluate("$.missing | default([]) | length"), 0);
    assert.equal(evaluate("$.a | default($.b)", { b: 2 }), 2);
  });
});

describe("string filters", () => {
  it("lower, upper, trim", () => {
    assert.equal(evaluate("'AbC' | lower"), "abc");
    assert.equal(evaluate("'straße' | upper"), "STRASSE");
    assert.equal(evaluate("'  x y \\n' | trim"), "x y");
    for (const name of ["lower", "upper", "trim"]) {
      assertEvalError(`1 | ${name}`, { code: "EXPR_TYPE", reason: /needs a string, got number/ });
    }
  });

  it("json keeps insertion order", () => {
    assert.equal(
      evaluate("$ | json", { b: 1, a: [true, null, "x"] }),
      '{"b":1,"a":[true,null,"x"]}',
    );
    assert.equal(evaluate("'x' | json"), '"x"');
    assert.equal(evaluate("null | json"), "null");
  });

  it("string: a string as itself, anything else as JSON", () => {
    assert.equal(evaluate("'x' | string"), "x");
    assert.equal(evaluate("1.5 | string"), "1.5");
    assert.equal(evaluate("[1, 'a'] | string"), '[1,"a"]');
    assert.equal(evaluate("null | string"), "null");
  });

  it("number parses numeric strings strictly and passes numbers through", () => {
    assert.equal(evaluate("'42' | number"), 42);
    assert.equal(evaluate("'-1.5e2' | number"), -150);
    assert.equal(evaluate("7 | number"), 7);
    for (const text of [
      "''",
      "' 1'",
      "'1 '",
      "'0x10'",
      "'1,5'",
      "'Infinity'",
      "'NaN'",
      "'1e999'",
      "'01'",
      "'.5'",
    ]) {
      assertEvalError(`${text} | number`, { code: "EXPR_TYPE", reason: /numeric string/ });
    }
    assertEvalError("true | number", { code: "EXPR_TYPE", reason: /got boolean/ });
  });

  it("split and join", () => {
    assert.deepEqual(evaluate("'a,b,,c' | split(',')"), ["a", "b", "", "c"]);
    assert.deepEqual(evaluate("'a😀b' | split('')"), ["a", "😀", "b"]);
    assert.deepEqual(evaluate("'' | split(',')"), [""]);
    assert.equal(evaluate("['a', 1, true, null] | join"), "a,1,true,null");
    assert.equal(evaluate("['a', 'b'] | join(' - ')"), "a - b");
    assert.equal(evaluate("[] | join"), "");
    assertEvalError("[[1]] | join", { code: "EXPR_TYPE", reason: /element 0 is an array/ });
    assertEvalError("'a' | join", { code: "EXPR_TYPE" });
    assertEvalError("1 | split(',')", { code: "EXPR_TYPE" });
    assertParseError("{{ $.a | join(1) }}", {
      code: "EXPR_ARGUMENT",
      reason: /separator must be a string/,
    });
    assertParseError("{{ $.a | split(null) }}", { code: "EXPR_ARGUMENT" });
    assertEvalError("'a' | split($.n)", { code: "EXPR_ARGUMENT" }, { n: 1 });
  });

  it("reverse works on strings and arrays", () => {
    assert.equal(evaluate("'ab😀' | reverse"), "😀ba");
    assert.deepEqual(evaluate("[1, 2, 3] | reverse"), [3, 2, 1]);
    assertEvalError("1 | reverse", { code: "EXPR_TYPE" });
  });
});

describe("object filters", () => {
  it("keys and values in insertion order", () => {
    assert.deepEqual(evaluate("$ | keys", { b: 1, a: 2 }), ["b", "a"]);
    assert.deepEqual(evaluate("$ | values", { b: 1, a: [2] }), [1, [2]]);
    assertEvalError("[1] | keys", { code: "EXPR_TYPE", reason: /needs an object, got array/ });
    assertEvalError("null | values", { code: "EXPR_TYPE" });
  });
});

describe("array filters", () => {
  it("sum", () => {
    assert.equal(evaluate("[1, 2, 3.5] | sum"), 6.5);
    assert.equal(evaluate("[] | sum"), 0);
    assertEvalError("[1, '2'] | sum", { code: "EXPR_TYPE", reason: /found string/ });
    assertEvalError("[1e308, 1e308] | sum", { code: "EXPR_TYPE", reason: /finite/ });
  });

  it("min and max of numbers or of strings; empty is null", () => {
    assert.equal(evaluate("[3, 1, 2] | min"), 1);
    assert.equal(evaluate("[3, 1, 2] | max"), 3);
    assert.equal(evaluate("['b', 'a', 'c'] | min"), "a");
    assert.equal(evaluate("['b', 'a', 'c'] | max"), "c");
    assert.equal(evaluate("[] | min"), null);
    assert.equal(evaluate("[] | max"), null);
    assertEvalError("[1, 'a'] | min", { code: "EXPR_TYPE", reason: /found number and string/ });
    assertEvalError("[null] | max", { code: "EXPR_TYPE" });
    assertEvalError("'abc' | max", { code: "EXPR_TYPE" });
  });

  it("first and last; null for empty", () => {
    assert.equal(evaluate("[1, 2, 3] | first"), 1);
    assert.equal(evaluate("[1, 2, 3] | last"), 3);
    assert.equal(evaluate("[] | first"), null);
    assert.equal(evaluate("[] | last"), null);
    assertEvalError("'ab' | first", { code: "EXPR_TYPE" });
  });

  it("unique keeps the first of deep-equal elements", () => {
    assert.deepEqual(evaluate("[1, 2, 1, '1', 2] | unique"), [1, 2, "1"]);
    assert.deepEqual(
      evaluate("$ | unique", [{ a: 1, b: 2 }, { b: 2, a: 1 }, [1], [1], null, null]),
      [{ a: 1, b: 2 }, [1], null],
    );
    assertEvalError("'aa' | unique", { code: "EXPR_TYPE" });
  });

  it("sort numbers or strings, without mutating the input", () => {
    const data = { n: [3, -1, 10, 2], s: ["b", "B", "a", "é"] };
    assert.deepEqual(evaluate("$.n | sort", data), [-1, 2, 3, 10]);
    assert.deepEqual(evaluate("$.s | sort", data), ["B", "a", "b", "é"]);
    assert.deepEqual(data.n, [3, -1, 10, 2]);
    assert.deepEqual(evaluate("[] | sort"), []);
    assertEvalError("[1, 'a'] | sort", { code: "EXPR_TYPE" });
  });

  it("contains is 'in' turned around", () => {
    assert.equal(evaluate("[1, 2] | contains(2)"), true);
    assert.equal(evaluate("'hello' | contains('ell')"), true);
    assert.equal(evaluate("$ | contains('a')", { a: 1 }), true);
    assert.equal(evaluate("$ | contains('b')", { a: 1 }), false);
    assertEvalError("5 | contains(1)", { code: "EXPR_TYPE", reason: /filter 'contains'/ });
  });
});

describe("number filters", () => {
  it("round half away from zero", () => {
    assert.equal(evaluate("2.5 | round"), 3);
    assert.equal(evaluate("-2.5 | round"), -3);
    assert.equal(evaluate("(-2.5) | round"), -3);
    assert.equal(evaluate("2.4 | round"), 2);
    assert.equal(evaluate("1.005 | round(2)"), 1.01);
    assert.equal(evaluate("1.2345 | round(3)"), 1.235);
    assert.equal(evaluate("(-1.2345) | round(3)"), -1.235);
    assert.equal(evaluate("7 | round(2)"), 7);
    assert.ok(Object.is(evaluate("(-0.4) | round"), 0));
    assert.equal(roundHalfAwayFromZero(1e-7, 15), 1e-7);
    assert.equal(roundHalfAwayFromZero(123456.789, 0), 123457);
  });

  it("round digits must be an integer from 0 to 15", () => {
    assertParseError("{{ 1 | round(16) }}", { code: "EXPR_ARGUMENT", offset: 7, length: 9 });
    assertParseError("{{ 1 | round(-1) }}", { code: "EXPR_ARGUMENT" });
    assertParseError("{{ 1 | round(0.5) }}", { code: "EXPR_ARGUMENT" });
    assertEvalError("'1' | round", { code: "EXPR_TYPE" });
  });

  it("floor, ceil, abs", () => {
    assert.equal(evaluate("2.7 | floor"), 2);
    assert.equal(evaluate("(-2.2) | floor"), -3);
    assert.equal(evaluate("2.2 | ceil"), 3);
    assert.ok(Object.is(evaluate("(-0.5) | ceil"), 0));
    assert.equal(evaluate("(-4) | abs"), 4);
    for (const name of ["floor", "ceil", "abs"]) {
      assertEvalError(`'1' | ${name}`, { code: "EXPR_TYPE", reason: /needs a number, got string/ });
    }
  });
});

describe("filter syntax", () => {
  it("empty parentheses are allowed", () => {
    assert.equal(evaluate("[1] | length()"), 1);
  });

  it("wrong argument counts are rejected at parse time", () => {
    assertParseError("{{ $.a | length(1) }}", {
      code: "EXPR_ARGUMENT",
      offset: 9,
      length: 9,
      reason: /takes no arguments, got 1/,
    });
    assertParseError("{{ $.a | default }}", {
      code: "EXPR_ARGUMENT",
      reason: /exactly 1 argument, got 0/,
    });
    assertParseError("{{ $.a | shard(1, 2) }}", {
      code: "EXPR_ARGUMENT",
      reason: /at most 1 argument, got 2/,
    });
    assertParseError("{{ $.a | split() }}", { code: "EXPR_ARGUMENT" });
  });

  it("unknown filters are rejected at parse time with a suggestion", () => {
    assertParseError("{{ workflow.input.customer_id | shrad }}", {
      code: "EXPR_UNKNOWN_FILTER",
      offset: 32,
      length: 5,
      suggestion: "shard",
      reason: /^unknown filter 'shrad'; did you mean 'shard'\?$/,
    });
    assertParseError("{{ $.a | lenght }}", { code: "EXPR_UNKNOWN_FILTER", suggestion: "length" });
    const error = assertParseError("{{ $.a | constructor }}", { code: "EXPR_UNKNOWN_FILTER" });
    assert.equal(error.suggestion, undefined);
  });

  it("a filter needs a name", () => {
    assertParseError("{{ $.a | }}", { code: "EXPR_SYNTAX", offset: 9 });
    assertParseError("{{ $.a | 'x' }}", { code: "EXPR_SYNTAX", offset: 9 });
  });
});
