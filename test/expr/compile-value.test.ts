import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileValue, evaluateValue, type JsonValue } from "../../lib/core/expr/index.ts";
import { assertExpressionError, FULL_CONTEXT, referenceShard } from "./helpers.ts";

const data = {
  customer_id: "c-42",
  cart_items: [{ id: "p1" }, { id: "p2" }],
};

describe("compileValue / evaluateValue", () => {
  it("evaluates every template string and keeps other values", () => {
    const parameters = {
      customer_id: "{{ $.customer_id }}",
      product_ids: "{{ $.cart_items[*].id }}",
      shard: "{{ workflow.input.customer_id | shard }}",
      label: "order for {{ $.customer_id }}",
      plain: "no template }}",
      count: 3,
      flag: false,
      nothing: null,
      nested: { list: ["{{ state.attempt }}", 1, { deep: "{{ map.index }}" }] },
    };
    const compiled = compileValue(parameters);
    assert.deepEqual(evaluateValue(compiled, { ...FULL_CONTEXT, data }), {
      customer_id: "c-42",
      product_ids: ["p1", "p2"],
      shard: referenceShard("c-42"),
      label: "order for c-42",
      plain: "no template }}",
      count: 3,
      flag: false,
      nothing: null,
      nested: { list: [2, 1, { deep: 3 }] },
    });
  });

  it("scalars and template-free values compile to constants returned as given", () => {
    const value = { a: [1, "x", { b: null }] };
    const compiled = compileValue(value);
    assert.equal(compiled.kind, "constant");
    assert.equal(evaluateValue(compiled, { data: null }), value);
    assert.equal(evaluateValue(compileValue(5), { data: null }), 5);
    assert.equal(evaluateValue(compileValue("{{ 1 + 1 }}"), { data: null }), 2);
  });

  it("never mutates the compiled value or the data", () => {
    const parameters = { ids: "{{ $.cart_items[*].id }}", fixed: { x: 1 } };
    const snapshot = structuredClone(parameters);
    const dataSnapshot = structuredClone(data);
    const compiled = compileValue(parameters);
    evaluateValue(compiled, { data });
    evaluateValue(compiled, { data });
    assert.deepEqual(parameters, snapshot);
    assert.deepEqual(data, dataSnapshot);
  });

  it("keeps a __proto__ key of the value as plain data", () => {
    const parameters = JSON.parse('{"__proto__": "{{ $.customer_id }}", "ok": 1}') as JsonValue;
    const result = evaluateValue(compileValue(parameters), { data }) as Record<string, unknown>;
    assert.ok(Object.hasOwn(result, "__proto__"));
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.entries(result), [
      ["__proto__", "c-42"],
      ["ok", 1],
    ]);
  });

  it("parse errors say where in the value the template is", () => {
    const cases: [JsonValue, string][] = [
      [{ customer: { id: "{{ $.a | shrad }}" } }, "customer.id"],
      [["ok", "fine", "{{ $. }}"], "[2]"],
      [{ items: [{ "odd key": "{{ wokflow.id }}" }] }, "items[0]['odd key']"],
      ["{{ 1 + }}", ""],
    ];
    for (const [value, valuePath] of cases) {
      const error = assertExpressionError(() => compileValue(value), { code: error_code(value) });
      assert.equal(error.valuePath, valuePath);
      assert.equal(typeof error.offset, "number");
    }
  });

  it("evaluation errors say where in the value the template is", () => {
    const compiled = compileValue({ a: ["{{ 1 }}", "{{ $.x / 0 }}"] });
    const error = assertExpressionError(() => evaluateValue(compiled, { data: { x: 1 } }), {
      code: "EXPR_DIVISION_BY_ZERO",
      offset: 3,
    });
    assert.equal(error.valuePath, "a[1]");
    assert.equal(error.source, "{{ $.x / 0 }}");
  });

  it("one budget covers the whole value", () => {
    const compiled = compileValue({ a: "{{ $ | sum }}", b: "{{ $ | sum }}" });
    const list = Array.from({ length: 30_000 }, () => 1);
    assert.deepEqual(evaluateValue(compiled, { data: list }), { a: 30_000, b: 30_000 });
    assertExpressionError(() => evaluateValue(compiled, { data: list }, { budget: 40_000 }), {
      code: "EXPR_BUDGET",
    });
  });

  it("refuses absurdly deep values instead of overflowing", () => {
    let deep: JsonValue = "{{ 1 }}";
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assertExpressionError(() => compileValue(deep), { code: "EXPR_BUDGET" });
  });
});

function error_code(value: JsonValue): "EXPR_UNKNOWN_FILTER" | "EXPR_SYNTAX" | "EXPR_UNKNOWN_ROOT" {
  const text = JSON.stringify(value);
  if (text.includes("shrad")) return "EXPR_UNKNOWN_FILTER";
  if (text.includes("wokflow")) return "EXPR_UNKNOWN_ROOT";
  return "EXPR_SYNTAX";
}
