/**
 * The syntax tree of an expression. Every node carries the span of source text
 * it was parsed from (`offset`, `length`, relative to the template source),
 * which evaluation errors point at.
 */

/** A span of template source text. */
export interface Span {
  /** 0-based offset into the template source. */
  readonly offset: number;
  /** Length in characters. */
  readonly length: number;
}

/** A number, string, boolean or null literal. */
export interface LiteralNode extends Span {
  readonly type: "literal";
  readonly value: null | boolean | number | string;
}

/** An array literal `[a, b, ...]`. */
export interface ArrayNode extends Span {
  readonly type: "array";
  readonly items: readonly Expression[];
}

/** `$`, the execution data. */
export interface DataNode extends Span {
  readonly type: "data";
}

/** The context roots other than `$`. */
export type ContextRoot = "workflow" | "execution" | "state" | "map";

/** A field of a context root, e.g. `workflow.input` or `state.attempt`. */
export interface ContextNode extends Span {
  readonly type: "context";
  readonly root: ContextRoot;
  readonly field: string;
}

/** `.name` or `['name']`. */
export interface KeySegment extends Span {
  readonly type: "key";
  readonly key: string;
}

/** `[3]` or `[-1]` (negative counts from the end). */
export interface IndexSegment extends Span {
  readonly type: "index";
  readonly index: number;
}

/** `[*]`: the rest of the path applies to every element. */
export interface WildcardSegment extends Span {
  readonly type: "wildcard";
}

/** `[expr]` with a computed key (string) or index (integer). */
export interface DynamicSegment extends Span {
  readonly type: "dynamic";
  readonly expression: Expression;
}

/** One step of a path. */
export type Segment = KeySegment | IndexSegment | WildcardSegment | DynamicSegment;

/** A base expression followed by one or more path segments. */
export interface PathNode extends Span {
  readonly type: "path";
  readonly base: Expression;
  readonly segments: readonly Segment[];
}

/** Prefix operators (`!` is parsed as `not`). */
export type UnaryOperator = "not" | "-";

/** `not x` or `-x`. */
export interface UnaryNode extends Span {
  readonly type: "unary";
  readonly operator: UnaryOperator;
  readonly operand: Expression;
}

/** Binary operators (`||` is parsed as `or`, `&&` as `and`). */
export type BinaryOperator =
  | "or"
  | "and"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "in"
  | "not in"
  | "+"
  | "-"
  | "*"
  | "/"
  | "%";

/** `left op right`. */
export interface BinaryNode extends Span {
  readonly type: "binary";
  readonly operator: BinaryOperator;
  readonly left: Expression;
  readonly right: Expression;
}

/** `input | name(args)`; `nameSpan` covers the name and its arguments, where filter errors point. */
export interface FilterNode extends Span {
  readonly type: "filter";
  readonly name: string;
  readonly input: Expression;
  readonly args: readonly Expression[];
  readonly nameSpan: Span;
}

/** Any expression. */
export type Expression =
  | LiteralNode
  | ArrayNode
  | DataNode
  | ContextNode
  | PathNode
  | UnaryNode
  | BinaryNode
  | FilterNode;
