/**
 * Every broken workflow under test/fixtures/broken/ carries its expected
 * diagnostics as `#! CODE@COLUMN` markers at the end of the line they belong to
 * (a marker on its own line, `#!^ CODE@COLUMN`, points at the line above).
 * The validator must report exactly those: same codes, lines and columns, no more.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";
import { repoPath } from "../helpers.ts";

const DIR = repoPath("test", "fixtures", "broken");
/** Activities the app "has", for the fixtures named activities*.yaml. */
const ACTIVITIES = new Set(["verify_identity", "charge_customer", "check_credit"]);

function expectedMarkers(text: string): string[] {
  const expected: string[] = [];
  text.split("\n").forEach((line, index) => {
    const above = /^\s*#!\^\s*(.*)$/.exec(line);
    const inline = /#!\s+(.*)$/.exec(line);
    const markers = above ? above[1] : inline?.[1];
    if (markers === undefined) return;
    const lineNo = above ? index : index + 1;
    for (const marker of markers.trim().split(/\s+/)) {
      const [code, column] = marker.split("@");
      expected.push(`${lineNo}:${column} ${code}`);
    }
  });
  return expected.sort();
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yaml"))) {
  test(`broken/${file} reports exactly its marked diagnostics`, () => {
    const text = readFileSync(`${DIR}/${file}`, "utf8");
    const result = validateWorkflow(file, text, {
      defaultName: "fixture",
      ...(file.startsWith("activities") ? { activities: ACTIVITIES } : {}),
    });
    const actual = result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`).sort();
    assert.deepEqual(
      actual,
      expectedMarkers(text),
      result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join("\n"),
    );
    assert.equal(result.definition, undefined, "a workflow with errors has no definition");
    for (const d of result.diagnostics) {
      assert.ok(
        d.message.length > 0 && !d.message.includes("\n"),
        `one-line message: ${d.message}`,
      );
      assert.ok(d.length >= 1);
    }
  });
}
