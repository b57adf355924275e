import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatPath,
  getPath,
  type JsonValue,
  MAX_ARRAY_LENGTH,
  parsePath,
  setPath,
} from "../../lib/core/expr/index.ts";
import { assertExpressionError, evaluate } from "./helpers.ts";

describe("parsePath", () => {
  it("parses the result path forms", () => {
    assert.deepEqual(parsePath("$"), []);
    assert.deepEqual(parsePath("$.identity"), ["identity"]);
    assert.deepEqual(parsePath("$.a.b"), ["a", "b"]);
    assert.deepEqual(parsePath("$.a[0]"), ["a", 0]);
    assert.deepEqual(parsePath("$['odd key']"), ["odd key"]);
    assert.deepEqual(parsePath('$["x"]'), ["x"]);
    assert.deepEqual(parsePath("$.a['b c'][2]"), ["a", "b c", 2]);
    assert.deepEqual(parsePath("$.$ref._x9"), ["$ref", "_x9"]);
    assert.deepEqual(parsePath("$['it\\'s']"), ["it's"]);
    assert.deepEqual(parsePath("$['']"), [""]);
  });

  it("rejects anything else with EXPR_PATH and the offset of the problem", () => {
    const cases: [string, number][] = [
      ["", 0],
      ["a.b", 0],
      ["$.", 1],
      ["$..a", 1],
      ["$.1a", 1],
      ["$.a-b", 3],
      ["$[*]", 1],
      ["$.a[-1]", 3],
      ["$[01]", 2],
      ["$[1", 3],
      ["$['a'", 5],
      ["$['a", 2],
      ["$[a]", 1],
      [" $.a", 0],
      ["$.a ", 3],
      [`$[${MAX_ARRAY_LENGTH}]`, 2],
      ["$['\\x']", 3],
    ];
    for (const [source, offset] of cases) {
      const error = assertExpressionError(() => parsePath(source), { code: "EXPR_PATH", offset });
      assert.equal(error.source, source);
    }
  });

  it("rejects forbidden keys", () => {
    assertExpressionError(() => parsePath("$.__proto__"), {
      code: "EXPR_FORBIDDEN_KEY",
      offset: 1,
      length: 10,
    });
    assertExpressionError(() => parsePath("$.a['constructor']"), {
      code: "EXPR_FORBIDDEN_KEY",
      offset: 3,
      length: 15,
    });
    assertExpressionError(() => parsePath("$.prototype.x"), { code: "EXPR_FORBIDDEN_KEY" });
  });
});

describe("formatPath", () => {
  it("prints the canonical form", () => {
    assert.equal(formatPath([]), "$");
    assert.equal(formatPath(["a", "b", 0, "odd key"]), "$.a.b[0]['odd key']");
    assert.equal(
      formatPath(["it's", "back\\slash", "new\nline", "1x", "a-b"]),
      "$['it\\'s']['back\\\\slash']['new\\nline']['1x']['a-b']",
    );
    assert.equal(formatPath(["\u0001"]), "$['\\u0001']");
  });

  it("is the inverse of parsePath", () => {
    for (const source of ["$", "$.a.b[0]['odd key']", "$['it\\'s'][3].x", "$['']['\\n']"]) {
      assert.equal(formatPath(parsePath(source)), source);
    }
  });

  it("canonicalizes double quotes", () => {
    assert.equal(formatPath(parsePath('$["x"]["a b"]')), "$.x['a b']");
  });

  it("a formatted result path reads the same value as an expression", () => {
    const data = { a: { "b c": [1, 2, { d: "found" }] } };
    const path = ["a", "b c", 2, "d"];
    assert.equal(evaluate(formatPath(path), data), "found");
    assert.equal(getPath(data, path), "found");
  });
});

describe("getPath", () => {
  const data = { a: { b: [10, { c: null }] }, s: "str" };

  it("reads own properties and array elements", () => {
    assert.deepEqual(getPath(data, []), data);
    assert.equal(getPath(data, ["a", "b", 0]), 10);
    assert.equal(getPath(data, ["a", "b", 1, "c"]), null);
  });

  it("is undefined when missing", () => {
    assert.equal(getPath(data, ["x"]), undefined);
    assert.equal(getPath(data, ["a", "b", 2]), undefined);
    assert.equal(getPath(data, ["a", "b", -1]), undefined);
    assert.equal(getPath(data, ["a", "b", 0.5]), undefined);
    assert.equal(getPath(data, ["a", 0]), undefined);
    assert.equal(getPath(data, ["s", "length"]), undefined);
    assert.equal(getPath(data, ["a", "b", "length"]), undefined);
    assert.equal(getPath(data, ["toString"]), undefined);
    assert.equal(getPath(data, ["a", "b", 1, "c", "d"]), undefined);
  });

  it("never reads forbidden keys, even own ones", () => {
    const hostile = JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}');
    assert.equal(getPath(hostile, ["__proto__"]), undefined);
    assert.equal(getPath(hostile, ["constructor"]), undefined);
    assert.equal(getPath({}, ["constructor"]), undefined);
  });
});

describe("setPath", () => {
  it("returns a new document and never mutates the input", () => {
    const data = { a: { b: 1, keep: { deep: true } }, list: [1, 2], other: { x: 1 } };
    const before = structuredClone(data);
    const result = setPath(data, ["a", "b"], 2) as {
      a: { b: number; keep: unknown };
      other: unknown;
    };
    assert.deepEqual(data, before);
    assert.deepEqual(result, { ...before, a: { b: 2, keep: { deep: true } } });
    assert.equal(result.other, data.other, "untouched branches are shared");
    assert.equal(result.a.keep, data.a.keep, "untouched branches are shared");
    assert.notEqual(result.a, data.a);
  });

  it("replaces the whole document for the empty path", () => {
    assert.deepEqual(setPath({ a: 1 }, [], [1]), [1]);
  });

  it("creates missing intermediates: objects for keys, arrays for indexes", () => {
    assert.deepEqual(setPath({}, ["a", "b"], 1), { a: { b: 1 } });
    assert.deepEqual(setPath({}, ["a", 0, "b"], 1), { a: [{ b: 1 }] });
    assert.deepEqual(setPath(null, ["a"], 1), { a: 1 });
    assert.deepEqual(setPath({ a: null }, ["a", "b"], 1), { a: { b: 1 } });
  });

  it("sets array elements, appending and padding with nulls", () => {
    const list = [1, 2];
    assert.deepEqual(setPath({ list }, ["list", 0], 9), { list: [9, 2] });
    assert.deepEqual(setPath({ list }, ["list", 2], 3), { list: [1, 2, 3] });
    assert.deepEqual(setPath({ list }, ["list", 4], 5), { list: [1, 2, null, null, 5] });
    assert.deepEqual(list, [1, 2]);
  });

  it("keeps own __proto__ data keys as data", () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonValue;
    const result = setPath(hostile, ["b"], 2) as Record<string, unknown>;
    assert.ok(Object.hasOwn(result, "__proto__"));
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.equal(result.b, 2);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("throws EXPR_PATH when an intermediate is a scalar or the wrong kind, pointing at the segment", () => {
    const data = { a: { n: 5 }, list: [1], s: "x" };
    const error = assertExpressionError(() => setPath(data, ["a", "n", "x"], 1), {
      code: "EXPR_PATH",
      offset: 5,
      length: 2,
      reason: /cannot set field 'x' inside a number/,
    });
    assert.equal(error.source, "$.a.n.x");
    assertExpressionError(() => setPath(data, ["list", "x"], 1), {
      code: "EXPR_PATH",
      reason: /field 'x' inside an array/,
    });
    assertExpressionError(() => setPath(data, ["a", 0], 1), {
      code: "EXPR_PATH",
      reason: /index 0 inside an object/,
    });
    assertExpressionError(() => setPath(data, ["s", 0], 1), {
      code: "EXPR_PATH",
      reason: /inside a string/,
    });
    assertExpressionError(() => setPath(true, ["x"], 1), {
      code: "EXPR_PATH",
      offset: 1,
      length: 2,
    });
  });

  it("throws for invalid indexes and forbidden keys", () => {
    for (const index of [-1, 1.5, MAX_ARRAY_LENGTH, Number.NaN]) {
      assertExpressionError(() => setPath([], [index], 1), { code: "EXPR_PATH", offset: 1 });
    }
    for (const key of ["__proto__", "constructor", "prototype"]) {
      assertExpressionError(() => setPath({}, ["a", key], 1), {
        code: "EXPR_FORBIDDEN_KEY",
        offset: 3,
      });
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("setPath then getPath returns the value", () => {
    const path = parsePath("$.results['step one'][1].value");
    const result = setPath({ results: { other: 1 } }, path, { ok: true });
    assert.deepEqual(getPath(result, path), { ok: true });
    assert.equal(getPath(result, ["results", "other"]), 1);
  });
});
