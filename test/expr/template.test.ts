import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateTemplate, hasTemplate, parseTemplate } from "../../lib/core/expr/index.ts";
import { assertParseError, FULL_CONTEXT, referenceShard, render } from "./helpers.ts";

describe("template kinds", () => {
  it("a string without {{ is literal and evaluates to itself", () => {
    const template = parseTemplate("product:42 }} { }");
    assert.equal(template.kind, "literal");
    assert.deepEqual(template.parts, ["product:42 }} { }"]);
    assert.equal(evaluateTemplate(template, { data: null }), "product:42 }} { }");
  });

  it("the empty string is literal", () => {
    assert.equal(parseTemplate("").kind, "literal");
    assert.equal(render(""), "");
  });

  it("a single expression, whitespace around it allowed, is whole and keeps its JSON type", () => {
    for (const source of ["{{ $.n }}", "  {{$.n}}\n", "\t{{ $.n }} "]) {
      assert.equal(parseTemplate(source).kind, "whole", source);
    }
    assert.equal(render("{{ $.n }}", { n: 7 }), 7);
    assert.deepEqual(render(" {{ $.o }} ", { o: { a: [1] } }), { a: [1] });
    assert.equal(render("{{ $.missing }}", {}), null);
    assert.equal(render("{{ true }}"), true);
  });

  it("text around an expression, or several expressions, make a mixed template", () => {
    assert.equal(parseTemplate("product:{{ $.sku }}").kind, "mixed");
    assert.equal(parseTemplate("{{ 1 }}{{ 2 }}").kind, "mixed");
    assert.equal(parseTemplate("{{ 1 }} {{ 2 }}").kind, "mixed");
  });

  it("mixed templates insert strings as they are and everything else as JSON", () => {
    const data = { sku: "A1", n: 1.5, ok: true, none: null, list: [1, "x"], obj: { a: "b" } };
    assert.equal(render("product:{{ $.sku }}", data), "product:A1");
    assert.equal(
      render("{{ $.n }}|{{ $.ok }}|{{ $.none }}|{{ $.list }}|{{ $.obj }}|{{ $.missing }}", data),
      '1.5|true|null|[1,"x"]|{"a":"b"}|null',
    );
    assert.equal(render("{{ 1 }}{{ 2 }}"), "12");
  });

  it("hasTemplate looks for {{", () => {
    assert.equal(hasTemplate("a {{ b"), true);
    assert.equal(hasTemplate("a { { b }}"), false);
  });

  it("records the parts with their spans", () => {
    const template = parseTemplate("a{{ 1 }}b");
    assert.equal(template.parts.length, 3);
    const expression = template.parts[1];
    assert.ok(typeof expression === "object");
    assert.equal(expression.offset, 1);
    assert.equal(expression.length, 7);
  });
});

describe("braces", () => {
  it("a literal {{ is written {{ '{{' }}", () => {
    assert.equal(render("{{ '{{' }}"), "{{");
    assert.equal(render("a {{ '{{' }} b }}"), "a {{ b }}");
  });

  it("}} inside a string literal does not close the template", () => {
    assert.equal(render("{{ '}}' }}"), "}}");
    assert.equal(render("x{{ \"a}}b\" + '}}' }}y"), "xa}}b}}y");
  });

  it("text after }} is not lexed as an expression", () => {
    assert.equal(render("{{ 1 }} = 'unterminated"), "1 = 'unterminated");
  });

  it("an unclosed {{ is a syntax error at the {{", () => {
    assertParseError("abc {{ $.a", {
      code: "EXPR_SYNTAX",
      offset: 4,
      length: 2,
      reason: /unclosed/,
    });
    assertParseError("{{ 1 }} {{", { code: "EXPR_SYNTAX", offset: 8, length: 2 });
    assertParseError("{{ $.a +", { code: "EXPR_SYNTAX", offset: 0, length: 2 });
  });

  it("an empty expression is a syntax error", () => {
    assertParseError("x {{  }}", {
      code: "EXPR_SYNTAX",
      offset: 2,
      length: 6,
      reason: /empty expression/,
    });
  });

  it("a stray } inside an expression is a syntax error", () => {
    assertParseError("{{ 1 } }}", { code: "EXPR_SYNTAX", offset: 5, length: 1 });
  });
});

describe("seed examples", () => {
  const data = {
    valid: false,
    customer_id: "c-42",
    sku: "A1",
    cart_items: [
      { id: "p1", qty: 1 },
      { id: "p2", qty: 3 },
    ],
  };

  it("{{ $.valid == false }}", () => {
    assert.equal(render("{{ $.valid == false }}", data), true);
    assert.equal(render("{{ $.valid == false }}", { valid: true }), false);
  });

  it("{{ $.cart_items[*].id }} is the array of ids", () => {
    assert.deepEqual(render("{{ $.cart_items[*].id }}", data), ["p1", "p2"]);
  });

  it("{{ workflow.input.customer_id | shard }} is shard-K", () => {
    const result = render("{{ workflow.input.customer_id | shard }}", data);
    assert.equal(result, referenceShard("c-42"));
    assert.match(String(result), /^shard-[0-9]$/);
  });

  it("product:{{ $.sku }}", () => {
    assert.equal(render("product:{{ $.sku }}", data), "product:A1");
  });

  it("{{ $.customer_id }}", () => {
    assert.equal(render("{{ $.customer_id }}", data), "c-42");
  });

  it("templates are parsed once and evaluated many times", () => {
    const template = parseTemplate("{{ $.n * 2 }}");
    assert.equal(evaluateTemplate(template, { data: { n: 1 } }), 2);
    assert.equal(evaluateTemplate(template, { data: { n: 5 } }), 10);
    assert.equal(evaluateTemplate(template, { ...FULL_CONTEXT, data: { n: 5 } }), 10);
  });

  it("a parsed template is frozen", () => {
    const template = parseTemplate("a{{ 1 }}");
    assert.ok(Object.isFrozen(template));
    assert.ok(Object.isFrozen(template.parts));
  });
});
