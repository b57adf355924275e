/**
 * Redrive from a state inside a Parallel branch or a Map iteration, at any depth.
 *
 * The new execution enters the root-level fan-out that holds the state, with the data
 * the original entered it with. Each fan-out on the way down re-runs as the original's
 * did: its branches (or items) that succeeded in the original end at once with their
 * recorded output, the one on the path starts at the next state of the path (at the
 * last level, the state asked for), and the others run again from their start. This
 * is Step Functions' redrive of a Map run (only the unsuccessful children run again),
 * from any state rather than only the failed one.
 */
import type { Flow, State } from "../cdl/index.ts";
import type { JsonValue } from "../expr/index.ts";

/** How one fan-out of a redrive re-runs the original's (carried in its `JoinState`). */
export interface Resume {
  /** The original execution. */
  readonly of: string;
  /** The original's join for this fan-out: branch `i`'s thread there is `<join>[i]`. */
  readonly join: string;
  /**
   * The branch or item on the path, and where it starts: the next fan-out of the path,
   * or the state asked for. Absent: the fan-out itself was asked for, and every branch
   * that did not succeed runs again from its start.
   */
  readonly on?: {
    readonly index: number;
    readonly state: string;
    /** The data it enters `state` with, in the runtime's stored form (opaque here). */
    readonly data: JsonValue;
    /** The next fan-out on the path, when `state` is one. */
    readonly next?: Resume;
  };
}

/** One fan-out between the root and a state: its name, and for a Parallel the branch. */
export interface PathLevel {
  readonly state: string;
  readonly kind: "parallel" | "map";
  /** The Parallel's branch that holds the rest of the path. */
  readonly branch?: number;
  /** A Map reading its items from an object (`item_reader`). */
  readonly reader?: boolean;
}

/**
 * The fan-outs from the root flow down to the flow that holds `state` (state names are
 * unique in a workflow): `[]` for a root-level state, undefined for an unknown one.
 */
export function pathTo(flow: Flow, state: string): PathLevel[] | undefined {
  if (flow.states.has(state)) return [];
  for (const s of flow.states.values()) {
    for (const [inner, level] of nestedFlows(s)) {
      const rest = pathTo(inner, state);
      if (rest) return [level, ...rest];
    }
  }
  return undefined;
}

function nestedFlows(state: State): [Flow, PathLevel][] {
  if (state.type === "Parallel")
    return state.branches.map((b, i) => [
      b.flow,
      { state: state.name, kind: "parallel", branch: i } satisfies PathLevel,
    ]);
  if (state.type === "Map")
    return [
      [
        state.iterator,
        {
          state: state.name,
          kind: "map",
          ...(state.itemReader ? { reader: true } : {}),
        } satisfies PathLevel,
      ],
    ];
  return [];
}

/** A branch thread of the original on a redrive's path: its join and its index there. */
export interface ThreadLevel {
  /** The original's join id (`<parent thread>/<state>@<step>`). */
  readonly join: string;
  /** The parent thread's step that entered the fan-out. */
  readonly step: number;
  readonly index: number;
  /** The branch's thread id, `<join>[<index>]`. */
  readonly thread: string;
}

/**
 * Reads a branch thread's id (`root/<state>@<step>[<index>]/…`) along `path`: one level
 * per fan-out, each naming the path's state (and, for a Parallel, its branch).
 * Linear in the id's length. Undefined when the id is no thread on that path.
 */
export function threadPath(
  threadId: string,
  path: readonly PathLevel[],
): ThreadLevel[] | undefined {
  const levels: ThreadLevel[] = [];
  let at = "root";
  let rest = threadId.startsWith("root") ? threadId.slice(4) : undefined;
  if (rest === undefined) return undefined;
  for (const level of path) {
    const prefix = `/${level.state}@`;
    if (!rest.startsWith(prefix)) return undefined;
    const match = /^(\d{1,9})\[(\d{1,9})\]/.exec(rest.slice(prefix.length));
    if (!match) return undefined;
    const step = Number(match[1]);
    const index = Number(match[2]);
    if (level.kind === "parallel" && index !== level.branch) return undefined;
    const join = `${at}${prefix}${step}`;
    const thread = `${join}[${index}]`;
    levels.push({ join, step, index, thread });
    at = thread;
    rest = rest.slice(prefix.length + match[0].length);
  }
  return rest === "" ? levels : undefined;
}
