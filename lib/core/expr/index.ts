/**
 * The template and condition language of CDL: `{{ expr }}` templates with
 * paths, comparisons, boolean and arithmetic operators and filters. Templates
 * are parsed once (at validation) and evaluated many times by a pure,
 * deterministic, budgeted tree walker; nothing is ever `eval`ed and no
 * prototype is ever reached.
 */
export type {
  ArrayNode,
  BinaryNode,
  BinaryOperator,
  ContextNode,
  ContextRoot,
  DataNode,
  DynamicSegment,
  Expression,
  FilterNode,
  IndexSegment,
  KeySegment,
  LiteralNode,
  PathNode,
  Segment,
  Span,
  UnaryNode,
  UnaryOperator,
  WildcardSegment,
} from "./ast.ts";
export {
  ExpressionError,
  type ExpressionErrorCode,
  type ExpressionErrorDetails,
} from "./errors.ts";
export type { EvaluateOptions, EvaluationContext } from "./evaluate.ts";
export { FILTER_NAMES } from "./filters.ts";
export { isTruthy, type JsonValue } from "./json.ts";
export {
  MAX_ARRAY_LENGTH,
  MAX_EVALUATION_STEPS,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING_DEPTH,
  MAX_STRING_LENGTH,
  MAX_VALUE_DEPTH,
} from "./limits.ts";
export { formatPath, getPath, type PathSegment, parsePath, setPath } from "./path.ts";
export { printExpression } from "./print.ts";
export { ROOT_NAMES } from "./roots.ts";
export {
  type CompiledValue,
  compileValue,
  evaluateTemplate,
  evaluateValue,
  hasTemplate,
  parseTemplate,
  type Template,
  type TemplateExpression,
  type TemplatePart,
} from "./template.ts";
