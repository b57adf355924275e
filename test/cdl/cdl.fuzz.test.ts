/**
 * The validator never throws on any input: random documents and mutated example
 * workflows give diagnostics that point inside the text, or a definition.
 * FUZZ_RUNS sets the number of runs (npm run fuzz).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { type ValidationResult, validateWorkflow } from "../../lib/core/cdl/index.ts";
import { repoPath, runs } from "../helpers.ts";

const EXAMPLES = readdirSync(repoPath("examples", "order-processing", "workflows"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => readFileSync(repoPath("examples", "order-processing", "workflows", f), "utf8"));

function assertWellFormed(text: string, result: ValidationResult): void {
  const lines = text.split("\n").length;
  for (const d of result.diagnostics) {
    assert.ok(d.line >= 1 && d.line <= lines, `line ${d.line} of ${lines}: ${d.code} ${d.message}`);
    assert.ok(d.column >= 1, `column ${d.column}`);
    assert.ok(d.message.length > 0 && !d.message.includes("\n"));
    assert.match(d.code, /^CDL_[A-Z_]+$/);
  }
  const errors = result.diagnostics.some((d) => d.severity === "error");
  assert.equal(
    result.definition === undefined,
    errors,
    "a definition exactly when there is no error",
  );
}

const TOKENS = [
  "name: ",
  "type: ",
  "Task",
  "Parallel",
  "Choice",
  "Map",
  "next: ",
  "end: true",
  "states:",
  "branches:",
  "- ",
  "  ",
  "\n",
  "{{ $.a }}",
  "{{",
  "}}",
  "&a ",
  "*a",
  "[",
  "]",
  "{",
  "}",
  ":",
  "'",
  '"',
  "#",
  "__proto__",
  "10s",
  "result: $.x",
];

test("mutated example workflows never throw and point inside the text", () => {
  const mutation = fc.record({
    example: fc.nat({ max: EXAMPLES.length - 1 }),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        remove: fc.nat({ max: 12 }),
        insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  });
  fc.assert(
    fc.property(mutation, ({ example, edits }) => {
      let text = EXAMPLES[example] ?? "";
      for (const edit of edits) {
        const at = edit.at % (text.length + 1);
        text = text.slice(0, at) + edit.insert + text.slice(at + edit.remove);
      }
      assertWellFormed(text, validateWorkflow("mutated.yaml", text, { defaultName: "mutated" }));
    }),
    { numRuns: runs(300) },
  );
});

test("random YAML documents never throw", () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom<unknown>(
        null,
        true,
        0,
        "Task",
        "Parallel",
        "{{ $.x }}",
        "10s",
        "$.a",
        "__proto__",
      ),
      fc.string(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            "name",
            "type",
            "states",
            "next",
            "end",
            "branches",
            "choices",
            "result",
            "retry",
            "__proto__",
          ),
          fc.string(),
        ),
        tie("value"),
        { maxKeys: 5 },
      ),
    ),
  }));
  fc.assert(
    fc.property(json.value, (value) => {
      const text = stringify(value);
      assertWellFormed(text, validateWorkflow("random.yaml", text));
    }),
    { numRuns: runs(500) },
  );
});

test("a YAML alias bomb is refused, not expanded", () => {
  const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 0; i < 8; i++) {
    const prev = String.fromCharCode(97 + i);
    const next = String.fromCharCode(98 + i);
    lines.push(
      `${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`,
    );
  }
  lines.push("states: *i");
  const text = lines.join("\n");
  const result = validateWorkflow("bomb.yaml", text);
  assert.ok(
    result.diagnostics.some(
      (d) => d.code === "CDL_YAML_SYNTAX" && /expands to more than/.test(d.message),
    ),
  );
  assert.equal(result.definition, undefined);
});

test("a __proto__ key stays a plain (unknown) key and pollutes nothing", () => {
  const text = "name: P\n__proto__: { polluted: true }\nstates:\n  - name: A\n    type: Succeed\n";
  const result = validateWorkflow("proto.yaml", text);
  assert.deepEqual(
    result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`),
    ["2:1 CDL_UNKNOWN_KEY"],
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
