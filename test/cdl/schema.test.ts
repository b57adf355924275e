/** The published JSON Schema is the validator's own, up to date, and self-consistent. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CDL_SCHEMA, type JsonSchema, STATE_TYPES } from "../../lib/core/cdl/index.ts";
import { renderCdlSchema } from "../../lib/core/cdl/publish.ts";
import { repoPath } from "../helpers.ts";

test("schema/cdl.schema.json is generated from lib/core/cdl/schema.ts (run `npm run schema`)", () => {
  assert.equal(readFileSync(repoPath("schema", "cdl.schema.json"), "utf8"), renderCdlSchema());
});

test("every $ref resolves and every state type has a definition", () => {
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string") refs.push(value);
        else walk(value);
      }
    }
  };
  walk(CDL_SCHEMA);
  const definitions = CDL_SCHEMA.definitions ?? {};
  for (const ref of refs) {
    assert.match(ref, /^#\/definitions\//);
    assert.ok(definitions[ref.slice("#/definitions/".length)], `unresolved ${ref}`);
  }
  for (const type of STATE_TYPES) {
    const state: JsonSchema | undefined = definitions[type];
    assert.equal(state?.properties?.type?.const, type);
    assert.equal(state?.additionalProperties, false, `${type} rejects unknown keys`);
  }
});

test("the seed keys are exactly what the schema accepts on a Task", () => {
  const task = CDL_SCHEMA.definitions?.Task?.properties ?? {};
  assert.deepEqual(Object.keys(task).sort(), [
    "cache",
    "catch",
    "comment",
    "end",
    "heartbeat",
    "name",
    "next",
    "parameters",
    "resource",
    "result",
    "retry",
    "timeout",
    "type",
  ]);
});
