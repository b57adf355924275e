/**
 * The workflow graph laid out by dagre. A Parallel or Map is a box holding its own
 * state (where it is entered: the fork), its branches (boxes too) or its iterator, and a
 * join (where it continues): edges into the state reach the fork, edges out of it leave
 * from the join, so dagre never routes an edge to a box.
 */
import { graphlib, layout } from "@dagrejs/dagre";
import type { Graph, GraphNode } from "./types.ts";

export interface Box {
  /** A graph node id, `<id>::join` for a fan-out's join, or `<id>::box` for its box. */
  readonly id: string;
  /** The graph node it shows. */
  readonly node: GraphNode;
  readonly role: "state" | "join" | "box" | "branch";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Line {
  readonly from: string;
  readonly to: string;
  readonly kind: "next" | "choice" | "default" | "catch" | "fork" | "join";
  readonly label?: string;
  readonly points: readonly { x: number; y: number }[];
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Boxes first (outermost first), then states and joins. */
  readonly boxes: readonly Box[];
  readonly lines: readonly Line[];
}

const CHAR_PX = 7.4;
const STATE_HEIGHT = 34;
const JOIN_SIZE = 14;

const fansOut = (node: GraphNode | undefined) => node?.type === "Parallel" || node?.type === "Map";

/** Lays out `graph`: boxes and lines in pixels, top to bottom. */
export function layoutGraph(graph: Graph): Layout {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const g = new graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 22, ranksep: 30, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));

  // The box a node sits in: its Branch's, or its Map's box.
  const container = (node: GraphNode): string | undefined => {
    if (node.parent === undefined) return undefined;
    const parent = byId.get(node.parent);
    return parent?.type === "Branch" ? parent.id : `${node.parent}::box`;
  };
  for (const node of graph.nodes) {
    if (node.type === "Branch") {
      g.setNode(node.id, { paddingTop: 18 });
      g.setParent(node.id, `${node.parent}::box`);
      continue;
    }
    const width = Math.max(90, node.name.length * CHAR_PX + 40);
    g.setNode(node.id, { width, height: STATE_HEIGHT });
    const parent = container(node);
    if (fansOut(node)) {
      const box = `${node.id}::box`;
      g.setNode(box, {});
      if (parent !== undefined) g.setParent(box, parent);
      g.setParent(node.id, box);
      g.setNode(`${node.id}::join`, { width: JOIN_SIZE, height: JOIN_SIZE });
      g.setParent(`${node.id}::join`, box);
    } else if (parent !== undefined) g.setParent(node.id, parent);
  }

  const exitOf = (id: string) => (fansOut(byId.get(id)) ? `${id}::join` : id);
  const lines: Omit<Line, "points">[] = [];
  for (const edge of graph.edges)
    lines.push({
      from: exitOf(edge.from),
      to: edge.to,
      kind: edge.kind,
      ...(edge.label === undefined ? {} : { label: edge.label }),
    });
  for (const node of graph.nodes) {
    if (!fansOut(node)) continue;
    const flows =
      node.type === "Parallel"
        ? graph.nodes.filter((n) => n.parent === node.id && n.type === "Branch").map((b) => b.id)
        : [node.id];
    for (const flow of flows)
      for (const child of graph.nodes.filter((n) => n.parent === flow)) {
        if (child.start) lines.push({ from: node.id, to: child.id, kind: "fork" });
        if (child.end) lines.push({ from: exitOf(child.id), to: `${node.id}::join`, kind: "join" });
      }
  }
  lines.forEach((line, i) => {
    g.setEdge(line.from, line.to, {}, String(i));
  });

  layout(g);

  const boxes: Box[] = [];
  for (const id of g.nodes()) {
    const label = g.node(id) as { x: number; y: number; width: number; height: number };
    const [nodeId, suffix] = id.split("::") as [string, string | undefined];
    const node = byId.get(nodeId);
    if (!node) continue;
    const role =
      suffix === "box"
        ? "box"
        : suffix === "join"
          ? "join"
          : node.type === "Branch"
            ? "branch"
            : "state";
    boxes.push({
      id,
      node,
      role,
      x: label.x - label.width / 2,
      y: label.y - label.height / 2,
      width: label.width,
      height: label.height,
    });
  }
  const depth = (box: Box) => box.node.id.split("/").length;
  const order = { box: 0, branch: 0, state: 1, join: 1 } as const;
  boxes.sort((a, b) => order[a.role] - order[b.role] || depth(a) - depth(b));
  const size = g.graph() as { width?: number; height?: number };
  return {
    width: size.width ?? 0,
    height: size.height ?? 0,
    boxes,
    lines: lines.map((line, i) => ({
      ...line,
      points:
        (g.edge(line.from, line.to, String(i)) as { points?: { x: number; y: number }[] }).points ??
        [],
    })),
  };
}
