/**
 * The redrive path helpers: where a state sits among a workflow's fan-outs, and reading
 * a branch thread's id along that path (hostile ids included, in linear time).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";
import { pathTo, threadPath } from "../../lib/core/engine/index.ts";

const source = `name: Deep
states:
  - { name: Start, type: Pass, next: Fan }
  - name: Fan
    type: Parallel
    branches:
      - { name: Solo, type: Pass }
      - name: Flow
        states:
          - name: Each
            type: Map
            items: "{{ $.items }}"
            iterator:
              - { name: Leaf, type: Pass, end: true }
            end: true
    next: Read
  - name: Read
    type: Map
    item_reader: { bucket: my-items, key: k.jsonl, format: jsonl }
    iterator:
      - { name: Line, type: Pass, end: true }
    end: true
`;
const definition = validateWorkflow("deep.yaml", source).definition;
assert.ok(definition);
const flow = definition.flow;

test("pathTo names each fan-out from the root down to a state, with the Parallel's branch", () => {
  assert.deepEqual(pathTo(flow, "Start"), []);
  assert.deepEqual(pathTo(flow, "Solo"), [{ state: "Fan", kind: "parallel", branch: 0 }]);
  assert.deepEqual(pathTo(flow, "Leaf"), [
    { state: "Fan", kind: "parallel", branch: 1 },
    { state: "Each", kind: "map" },
  ]);
  assert.deepEqual(pathTo(flow, "Line"), [{ state: "Read", kind: "map", reader: true }]);
  assert.equal(pathTo(flow, "Nowhere"), undefined);
});

test("threadPath reads a thread id level by level, or refuses it", () => {
  const leaf = pathTo(flow, "Leaf") ?? [];
  assert.deepEqual(threadPath("root/Fan@2[1]/Each@1[37]", leaf), [
    { join: "root/Fan@2", step: 2, index: 1, thread: "root/Fan@2[1]" },
    { join: "root/Fan@2[1]/Each@1", step: 1, index: 37, thread: "root/Fan@2[1]/Each@1[37]" },
  ]);
  for (const bad of [
    "root/Fan@2[0]/Each@1[37]", // branch 0 does not hold Each
    "root/Fan@2[1]", // one level short
    "root/Fan@2[1]/Each@1[37]/x", // trailing
    "root/Fan@x[1]/Each@1[37]",
    "root/Fan@2[1]/Each@1[-1]",
    "other/Fan@2[1]/Each@1[3]",
    "rootx/Fan@2[1]/Each@1[3]",
    "",
    "root",
  ])
    assert.equal(threadPath(bad, leaf), undefined, bad);
  assert.deepEqual(threadPath("root", []), []);
});

test("a hostile thread id is refused: digits are bounded, one pass over the id", () => {
  const leaf = pathTo(flow, "Leaf") ?? [];
  assert.equal(threadPath(`root/Fan@${"9".repeat(1_000_000)}[1]/Each@1[2]`, leaf), undefined);
  assert.equal(threadPath(`root${"/Fan@1[1]".repeat(100_000)}`, leaf), undefined);
  assert.equal(threadPath("root/Fan@1[1]/Each@1[2]".padEnd(100_000, "]"), leaf), undefined);
});
