import assert from "node:assert/strict";
import { test } from "node:test";
import { editDistance, suggest } from "../../lib/core/suggest.ts";

test("edit distance counts a transposition as one edit", () => {
  assert.equal(editDistance("Task", "Task"), 0);
  assert.equal(editDistance("Taks", "Task"), 1);
  assert.equal(editDistance("nxt", "next"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("suggest finds close names, case-insensitively, and nothing when far", () => {
  assert.equal(suggest("Taks", ["Task", "Choice", "Parallel"]), "Task");
  assert.equal(suggest("task", ["Task"]), "Task");
  assert.equal(suggest("CombineResult", ["CombineResults", "Combine"]), "CombineResults");
  assert.equal(suggest("Foo", ["Parallel", "Choice"]), undefined);
  assert.equal(suggest("Task", ["Task"]), undefined, "an exact match is not a suggestion");
  assert.equal(suggest("x", []), undefined);
});
