import type { Expression, LiteralNode, Segment } from "./ast.ts";
import { quoteString } from "./lexer.ts";
import { formatSegment } from "./path.ts";
import { ROOT_FIELDS } from "./roots.ts";

function printLiteral(node: LiteralNode): string {
  return typeof node.value === "string" ? quoteString(node.value) : String(node.value);
}

function printSegment(segment: Segment): string {
  switch (segment.type) {
    case "key":
      return formatSegment(segment.key);
    case "index":
      return `[${segment.index}]`;
    case "wildcard":
      return "[*]";
    case "dynamic":
      return `[${printExpression(segment.expression)}]`;
  }
}

/** Prints `node` so that it parses back as the base of a path. */
function printPathBase(node: Expression): string {
  switch (node.type) {
    case "context":
      // `(workflow.id).x` is valid but `workflow.id.x` is rejected: scalar fields keep their parentheses.
      return ROOT_FIELDS.get(node.root)?.get(node.field) === "json"
        ? printExpression(node)
        : `(${printExpression(node)})`;
    case "literal":
    case "array":
    case "data":
      return printExpression(node);
    default:
      return `(${printExpression(node)})`;
  }
}

/** Prints `node` so that it parses back as the input of a filter. */
function printFilterInput(node: Expression): string {
  return node.type === "path" || node.type === "filter" || node.type === "context"
    ? printExpression(node)
    : printPathBase(node);
}

function printOperand(node: Expression): string {
  return node.type === "binary" || node.type === "unary"
    ? `(${printExpression(node)})`
    : printExpression(node);
}

/**
 * Source text for an expression tree that parses back to the same tree (up to
 * source offsets). Operators are printed in their word form (`and`, `or`,
 * `not`) and every compound operand is parenthesized.
 */
export function printExpression(node: Expression): string {
  switch (node.type) {
    case "literal":
      return printLiteral(node);
    case "array":
      return `[${node.items.map(printExpression).join(", ")}]`;
    case "data":
      return "$";
    case "context":
      return `${node.root}.${node.field}`;
    case "path":
      return `${printPathBase(node.base)}${node.segments.map(printSegment).join("")}`;
    case "unary":
      return node.operator === "not"
        ? `not ${printOperand(node.operand)}`
        : `-${printOperand(node.operand)}`;
    case "binary":
      return `${printOperand(node.left)} ${node.operator} ${printOperand(node.right)}`;
    case "filter": {
      const input = printFilterInput(node.input);
      const args = node.args.length === 0 ? "" : `(${node.args.map(printExpression).join(", ")})`;
      return `${input} | ${node.name}${args}`;
    }
  }
}
