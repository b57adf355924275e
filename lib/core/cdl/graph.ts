/**
 * A workflow's graph: its states as nodes (a Parallel's branches and a Map's iterator
 * nested under their state) and its transitions as edges. Pure: built from the parsed
 * definition, for the API (`GET /v1/apps/{app}/workflows/{name}`) and the console.
 */
import type { Definition, Flow, State } from "./types.ts";

/** A node of the graph: a state, or a Parallel's branch (a group of states). */
export interface GraphNode {
  /**
   * Unique in the graph: a top-level state's name; nested, its chain of containers
   * joined by `/` (`Verify/VerifyIdentity/CheckId` for state `CheckId` of branch
   * `VerifyIdentity` of Parallel `Verify`; `Reserve/ReserveItem` for the iterator
   * state `ReserveItem` of Map `Reserve`).
   */
  readonly id: string;
  /** The state's (or branch's) name as written. */
  readonly name: string;
  /** A state type, or `Branch` for a Parallel's branch. */
  readonly type: State["type"] | "Branch";
  /** The node it is nested in: a Map, or a Branch (itself nested in its Parallel). */
  readonly parent?: string;
  /** A branch's position in its Parallel (the index in its thread ids, `…@step[index]`). */
  readonly index?: number;
  /** A Task's activity (`validate_order`), and its worker pool when it has one. */
  readonly activity?: string;
  readonly pool?: string;
  /** True for the first state of its flow. */
  readonly start?: true;
  /** True for a state that ends its flow (`end: true`, Succeed, Fail). */
  readonly end?: true;
}

/** How one state leads to another. */
export type EdgeKind = "next" | "choice" | "default" | "catch";

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** A choice's condition, or a catcher's error names. */
  readonly label?: string;
}

export interface WorkflowGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** The graph of `definition`. Linear in the number of states. */
export function workflowGraph(definition: Definition): WorkflowGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];

  const addFlow = (flow: Flow, prefix: string, parent: string | undefined): void => {
    const idOf = (name: string) => `${prefix}${name}`;
    for (const state of flow.states.values()) {
      const id = idOf(state.name);
      const ends =
        state.type === "Succeed" ||
        state.type === "Fail" ||
        ("transition" in state && "end" in state.transition);
      nodes.push({
        id,
        name: state.name,
        type: state.type,
        ...(parent === undefined ? {} : { parent }),
        ...(state.type === "Task" ? { activity: state.resource.activity } : {}),
        ...(state.type === "Task" && state.resource.pool !== undefined
          ? { pool: state.resource.pool }
          : {}),
        ...(state.name === flow.startAt ? { start: true as const } : {}),
        ...(ends ? { end: true as const } : {}),
      });
      if ("transition" in state && "next" in state.transition)
        edges.push({ from: id, to: idOf(state.transition.next), kind: "next" });
      if (state.type === "Choice") {
        for (const choice of state.choices)
          edges.push({
            from: id,
            to: idOf(choice.next),
            kind: "choice",
            label: choice.condition.source,
          });
        if (state.default !== undefined)
          edges.push({ from: id, to: idOf(state.default), kind: "default" });
      }
      if ("catch" in state)
        for (const catcher of state.catch)
          edges.push({
            from: id,
            to: idOf(catcher.next),
            kind: "catch",
            label: catcher.errors.join(", "),
          });
      if (state.type === "Parallel") {
        for (const [index, branch] of state.branches.entries()) {
          const branchId = `${id}/${branch.name}`;
          nodes.push({ id: branchId, name: branch.name, type: "Branch", parent: id, index });
          addFlow(branch.flow, `${branchId}/`, branchId);
        }
      }
      if (state.type === "Map") addFlow(state.iterator, `${id}/`, id);
    }
  };

  addFlow(definition.flow, "", undefined);
  return { nodes, edges };
}
