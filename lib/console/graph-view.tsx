/** The workflow graph as SVG, laid out by dagre (layout.ts), each state coloured by what it did. */
import { useMemo } from "preact/hooks";
import type { NodeStatus } from "./history.ts";
import { layoutGraph } from "./layout.ts";
import type { Graph } from "./types.ts";

export interface NodeInfo {
  readonly status: NodeStatus;
  readonly counts: Readonly<Record<NodeStatus, number>>;
}

const ICON: Record<string, string> = {
  Task: "▸",
  Choice: "◇",
  Parallel: "‖",
  Map: "≡",
  Wait: "◷",
  WaitForEvent: "✉",
  Pass: "→",
  Succeed: "✓",
  Fail: "✗",
};

export function GraphView(props: {
  graph: Graph;
  nodes?: ReadonlyMap<string, NodeInfo>;
  selected?: string;
  onSelect?: (id: string) => void;
}) {
  const layout = useMemo(() => layoutGraph(props.graph), [props.graph]);
  const info = (id: string) => props.nodes?.get(id);
  const status = (id: string): NodeStatus | "plain" =>
    props.nodes ? (info(id)?.status ?? "idle") : "plain";
  return (
    <svg
      class="graph"
      data-testid="graph"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      width={layout.width}
      height={layout.height}
      role="img"
      aria-label="workflow graph"
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      {layout.boxes
        .filter((b) => b.role === "box" || b.role === "branch")
        .map((b) => (
          <g key={b.id} class={`cluster ${b.role} n-${status(b.node.id)}`}>
            <rect x={b.x} y={b.y} width={b.width} height={b.height} rx={8} />
            {b.role === "branch" && (
              <text x={b.x + 8} y={b.y + 12} class="cluster-label">
                {b.node.name}
              </text>
            )}
          </g>
        ))}
      {layout.lines.map((line) => {
        const points = line.points.map((p) => `${p.x},${p.y}`).join(" ");
        const mid = line.points[Math.floor(line.points.length / 2)];
        return (
          <g key={`${line.from}>${line.to}>${line.kind}`} class={`edge e-${line.kind}`}>
            <polyline points={points} marker-end="url(#arrow)" />
            {line.kind === "catch" && mid && (
              <text x={mid.x + 4} y={mid.y} class="edge-label">
                catch {line.label}
              </text>
            )}
            {line.kind === "default" && mid && (
              <text x={mid.x + 4} y={mid.y} class="edge-label">
                default
              </text>
            )}
          </g>
        );
      })}
      {layout.boxes
        .filter((b) => b.role === "state" || b.role === "join")
        .map((b) => {
          const s = status(b.node.id);
          if (b.role === "join")
            return (
              <circle
                key={b.id}
                class={`join n-${s}`}
                cx={b.x + b.width / 2}
                cy={b.y + b.height / 2}
                r={b.width / 2}
              />
            );
          const counts = info(b.node.id)?.counts;
          const total = counts
            ? counts.succeeded + counts.failed + counts.running + counts.caught + counts.cancelled
            : 0;
          return (
            // biome-ignore lint/a11y/noStaticElementInteractions: an SVG group has no button element; it takes focus and Enter
            <g
              key={b.id}
              class={`node n-${s} ${props.selected === b.node.id ? "selected" : ""}`}
              data-testid="node"
              data-node={b.node.id}
              data-status={s}
              tabIndex={0}
              onClick={() => props.onSelect?.(b.node.id)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") props.onSelect?.(b.node.id);
              }}
            >
              <title>
                {b.node.type} {b.node.name}
                {b.node.activity
                  ? ` (activity ${b.node.activity}${b.node.pool ? `@${b.node.pool}` : ""})`
                  : ""}
              </title>
              <rect
                x={b.x}
                y={b.y}
                width={b.width}
                height={b.height}
                rx={b.node.type === "Choice" ? 14 : 5}
              />
              <text x={b.x + 10} y={b.y + b.height / 2 + 4}>
                <tspan class="icon">{ICON[b.node.type] ?? ""}</tspan> {b.node.name}
              </text>
              {total > 1 && (
                <text x={b.x + b.width - 6} y={b.y + 11} class="count" text-anchor="end">
                  ×{total}
                </text>
              )}
            </g>
          );
        })}
    </svg>
  );
}
