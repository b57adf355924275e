import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateTemplate, parseTemplate, ROOT_NAMES } from "../../lib/core/expr/index.ts";
import { assertEvalError, assertParseError, evaluate, FULL_CONTEXT } from "./helpers.ts";

const data = {
  a: { b: { c: 1 } },
  list: [10, 20, 30],
  "odd key": "odd",
  "a-b": "hyphen",
  not: "keyword field",
  $ref: "dollar",
  users: [
    { name: "ann", tags: ["x", "y"], address: { city: "Oslo" } },
    { name: "bob", tags: [] },
    { tags: ["z"], address: null },
  ],
  matrix: [
    [1, 2],
    [3, [4, 5]],
  ],
  i: 1,
  k: "odd key",
};

describe("paths", () => {
  it("$ is the whole data", () => {
    assert.deepEqual(evaluate("$", data), data);
  });

  it("dotted fields", () => {
    assert.equal(evaluate("$.a.b.c", data), 1);
    assert.deepEqual(evaluate("$.a.b", data), { c: 1 });
  });

  it("keywords and $ may be field names after a dot", () => {
    assert.equal(evaluate("$.not", data), "keyword field");
    assert.equal(evaluate("$.$ref", data), "dollar");
  });

  it("indexes, negative indexes count from the end", () => {
    assert.equal(evaluate("$.list[0]", data), 10);
    assert.equal(evaluate("$.list[2]", data), 30);
    assert.equal(evaluate("$.list[-1]", data), 30);
    assert.equal(evaluate("$.list[-3]", data), 10);
  });

  it("quoted keys in single or double quotes", () => {
    assert.equal(evaluate("$['odd key']", data), "odd");
    assert.equal(evaluate('$["a-b"]', data), "hyphen");
    assert.equal(evaluate("$['a']['b'].c", data), 1);
  });

  it("computed keys and indexes", () => {
    assert.equal(evaluate("$.list[$.i]", data), 20);
    assert.equal(evaluate("$.list[$.i + 1]", data), 30);
    assert.equal(evaluate("$[$.k]", data), "odd");
    assert.equal(evaluate("$.list[-$.i]", data), 30);
    assert.equal(evaluate("$.list[$.missing]", data), null);
    assert.equal(evaluate("$.list[map.index - 1]", data), 30);
  });

  it("computed keys of the wrong type are type errors", () => {
    assertEvalError(
      "$.list[$.a]",
      { code: "EXPR_TYPE", reason: /string or an integer, got object/ },
      data,
    );
    assertEvalError("$.list[$.i / 2]", { code: "EXPR_TYPE", reason: /integer, got 0.5/ }, data);
  });

  it("literal indexes of the wrong type are rejected at parse time", () => {
    assertParseError("{{ $.list[1.5] }}", { code: "EXPR_TYPE", offset: 10, length: 3 });
    assertParseError("{{ $.list[true] }}", { code: "EXPR_TYPE", offset: 10, length: 4 });
    assertParseError("{{ $.list[[0]] }}", { code: "EXPR_TYPE", offset: 10, length: 3 });
  });

  it("missing paths are null, never an error", () => {
    for (const path of [
      "$.nope",
      "$.a.nope.deeper",
      "$.list[3]",
      "$.list[-4]",
      "$.list.x",
      "$.a[0]",
      "$.a.b.c.d",
      "$.a.b.c[0]",
      "$.users[2].address.city",
      "$['toString']",
      "$.list.length",
      "$.a.hasOwnProperty",
    ]) {
      assert.equal(evaluate(path, data), null, path);
    }
    assert.equal(evaluate("$.x", null), null);
    assert.equal(evaluate("$[0]", "string"), null);
  });

  it("paths apply to parenthesized expressions and array literals", () => {
    assert.equal(evaluate("($.list | reverse)[0]", data), 30);
    assert.equal(evaluate("[1, 2, 3][-1]"), 3);
    assert.equal(evaluate("($.a).b.c", data), 1);
  });
});

describe("projection [*]", () => {
  it("maps the rest of the path over the elements, skipping missing ones", () => {
    assert.deepEqual(evaluate("$.users[*].name", data), ["ann", "bob"]);
    assert.deepEqual(evaluate("$.users[*].address.city", data), ["Oslo"]);
    assert.deepEqual(evaluate("$.users[*].tags[0]", data), ["x", "z"]);
  });

  it("keeps present nulls", () => {
    assert.deepEqual(evaluate("$.users[*].address", data), [{ city: "Oslo" }, null]);
  });

  it("[*] alone is the array itself", () => {
    assert.deepEqual(evaluate("$.list[*]", data), [10, 20, 30]);
  });

  it("a second [*] flattens one level", () => {
    assert.deepEqual(evaluate("$.users[*].tags[*]", data), ["x", "y", "z"]);
    assert.deepEqual(evaluate("$.matrix[*][*]", data), [1, 2, 3, [4, 5]]);
    assert.deepEqual(evaluate("$.matrix[*][*][*]", data), [4, 5]);
  });

  it("[*] on a non-array is null", () => {
    assert.equal(evaluate("$.a[*]", data), null);
    assert.equal(evaluate("$.missing[*].x", data), null);
    assert.equal(evaluate("$.a.b.c[*]", data), null);
  });

  it("projection of an empty array is an empty array", () => {
    assert.deepEqual(evaluate("$.e[*].x", { e: [] }), []);
  });

  it("filters apply to the whole projection", () => {
    assert.equal(evaluate("$.users[*].name | length", data), 2);
    assert.equal(
      evaluate("$.items[*].price | sum", { items: [{ price: 2 }, { price: 3.5 }] }),
      5.5,
    );
  });
});

describe("roots", () => {
  it("ROOT_NAMES lists them", () => {
    assert.deepEqual(ROOT_NAMES, ["$", "workflow", "execution", "state", "map"]);
  });

  it("workflow.input with any path, workflow.id, workflow.name", () => {
    assert.deepEqual(evaluate("workflow.input"), FULL_CONTEXT.workflow?.input);
    assert.equal(evaluate("workflow.input.customer_id"), "c-42");
    assert.equal(evaluate("workflow.input.nested.list[-1]"), 3);
    assert.deepEqual(evaluate("workflow.input['nested'].list[*]"), [1, 2, 3]);
    assert.equal(evaluate("workflow.id"), "wf-1");
    assert.equal(evaluate("workflow.name"), "order");
  });

  it("execution.id, execution.start_time", () => {
    assert.equal(evaluate("execution.id"), "ex-9");
    assert.equal(evaluate("execution.start_time"), "2024-05-01T10:00:00.000Z");
  });

  it("state.name, state.attempt", () => {
    assert.equal(evaluate("state.name"), "ProcessOrder");
    assert.equal(evaluate("state.attempt"), 2);
  });

  it("map.index, map.item with any path", () => {
    assert.equal(evaluate("map.index"), 3);
    assert.deepEqual(evaluate("map.item"), { sku: "A1", qty: 2 });
    assert.equal(evaluate("map.item.sku"), "A1");
  });

  it("a root absent from the context reads as null", () => {
    const context = { data: {} };
    for (const expression of [
      "workflow.input.x",
      "workflow.id",
      "workflow.name",
      "execution.id",
      "execution.start_time",
      "state.name",
      "state.attempt",
      "map.index",
      "map.item.sku",
    ]) {
      assert.equal(
        evaluateTemplate(parseTemplate(`{{ ${expression} }}`), context),
        null,
        expression,
      );
    }
  });

  it("an unknown root is rejected at parse time with a suggestion", () => {
    assertParseError("{{ wokflow.input }}", {
      code: "EXPR_UNKNOWN_ROOT",
      offset: 3,
      length: 7,
      suggestion: "workflow",
      reason: /^unknown root 'wokflow'; did you mean 'workflow'\?$/,
    });
    assertParseError("{{ 1 + stat.name }}", {
      code: "EXPR_UNKNOWN_ROOT",
      offset: 7,
      suggestion: "state",
    });
    assertParseError("{{ ture }}", { code: "EXPR_UNKNOWN_ROOT", suggestion: "true" });
    assertParseError("{{ input.customer_id }}", {
      code: "EXPR_UNKNOWN_ROOT",
      suggestion: "workflow.input",
    });
    const error = assertParseError("{{ zzz }}", {
      code: "EXPR_UNKNOWN_ROOT",
      offset: 3,
      length: 3,
    });
    assert.equal(error.suggestion, undefined);
    assert.match(error.reason, /\$, workflow, execution, state, map/);
  });

  it("a filter name used as a root says how to apply it", () => {
    assertParseError("{{ length($.a) }}", { code: "EXPR_UNKNOWN_ROOT", reason: /is a filter/ });
  });

  it("an unknown field of a root is rejected at parse time with a suggestion", () => {
    assertParseError("{{ state.attempts }}", {
      code: "EXPR_UNKNOWN_FIELD",
      offset: 9,
      length: 8,
      suggestion: "attempt",
      reason: /^unknown field 'attempts' of 'state'; did you mean 'attempt'\?$/,
    });
    assertParseError("{{ workflow.inptu.x }}", { code: "EXPR_UNKNOWN_FIELD", suggestion: "input" });
    assertParseError("{{ execution.start }}", { code: "EXPR_UNKNOWN_FIELD", offset: 13 });
    const error = assertParseError("{{ map.zzzzzz }}", { code: "EXPR_UNKNOWN_FIELD" });
    assert.match(error.reason, /index, item/);
  });

  it("a root needs its field", () => {
    assertParseError("{{ workflow }}", {
      code: "EXPR_SYNTAX",
      offset: 3,
      length: 8,
      reason: /input, id, name/,
    });
    assertParseError("{{ state[0] }}", { code: "EXPR_SYNTAX", offset: 3 });
    assertParseError("{{ state. }}", { code: "EXPR_SYNTAX", offset: 10 });
  });

  it("scalar context fields have no paths", () => {
    assertParseError("{{ state.name.x }}", { code: "EXPR_TYPE", offset: 13, length: 2 });
    assertParseError("{{ map.index[0] }}", { code: "EXPR_TYPE", offset: 12 });
  });
});
