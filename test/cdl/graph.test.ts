/** A definition's graph: states as nodes (Parallel branches and Map iterators nested), transitions as edges. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { workflowGraph } from "../../lib/core/cdl/graph.ts";
import { type Definition, validateWorkflow } from "../../lib/core/cdl/index.ts";
import { repoPath } from "../helpers.ts";

function load(file: string): Definition {
  const text = readFileSync(repoPath("examples", "order-processing", "workflows", file), "utf8");
  const result = validateWorkflow(file, text, { defaultName: "x" });
  assert.ok(result.definition, result.diagnostics.map((d) => d.message).join("; "));
  return result.definition;
}

test("the order workflow's graph nests the Parallel's branches and keeps every transition", () => {
  const graph = workflowGraph(load("order-fulfillment.yaml"));
  assert.deepEqual(
    graph.nodes.map((n) => [n.id, n.type, n.parent ?? null]),
    [
      ["ValidateOrder", "Task", null],
      ["CheckValidation", "Choice", null],
      ["ParallelVerification", "Parallel", null],
      ["ParallelVerification/VerifyIdentity", "Branch", "ParallelVerification"],
      [
        "ParallelVerification/VerifyIdentity/VerifyIdentity",
        "Task",
        "ParallelVerification/VerifyIdentity",
      ],
      ["ParallelVerification/CheckCredit", "Branch", "ParallelVerification"],
      ["ParallelVerification/CheckCredit/CheckCredit", "Task", "ParallelVerification/CheckCredit"],
      ["ParallelVerification/CheckInventory", "Branch", "ParallelVerification"],
      [
        "ParallelVerification/CheckInventory/CheckInventory",
        "Task",
        "ParallelVerification/CheckInventory",
      ],
      ["CombineResults", "Task", null],
      ["RejectOrder", "Fail", null],
    ],
  );
  assert.equal(graph.nodes[0]?.start, true);
  assert.equal(graph.nodes.find((n) => n.id === "CombineResults")?.end, true);
  assert.deepEqual(
    graph.nodes.filter((n) => n.type === "Branch").map((n) => n.index),
    [0, 1, 2],
  );
  assert.deepEqual(
    graph.edges.map((e) => [e.from, e.to, e.kind]),
    [
      ["ValidateOrder", "CheckValidation", "next"],
      ["CheckValidation", "RejectOrder", "choice"],
      ["CheckValidation", "ParallelVerification", "default"],
      ["ParallelVerification", "CombineResults", "next"],
      ["ParallelVerification", "RejectOrder", "catch"],
    ],
  );
  assert.equal(graph.edges[1]?.label, "{{ $.valid == false }}");
  assert.equal(graph.edges[4]?.label, "ALL");
});

test("a Map's iterator states are nested under the Map", () => {
  const graph = workflowGraph(load("async-queueing.yaml"));
  const item = graph.nodes.find((n) => n.name === "ReserveItem");
  assert.deepEqual(item, {
    id: "ReserveItems/ReserveItem",
    name: "ReserveItem",
    type: "Task",
    parent: "ReserveItems",
    activity: "reserve_item",
    start: true,
    end: true,
  });
  assert.ok(graph.edges.some((e) => e.from === "AwaitShipment" && e.to === "NotifyDelay"));
  const fulfil = graph.nodes.find((n) => n.id === "FulfillOrder");
  assert.deepEqual([fulfil?.activity, fulfil?.pool], ["fulfill_order", "us-east"]);
  const ids = new Set(graph.nodes.map((n) => n.id));
  assert.equal(ids.size, graph.nodes.length, "node ids are unique");
  for (const edge of graph.edges) assert.ok(ids.has(edge.from) && ids.has(edge.to));
});
