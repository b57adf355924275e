import type { ContextNode, Expression, PathNode, Segment, Span } from "./ast.ts";
import { ExpressionError, type ExpressionErrorCode } from "./errors.ts";
import { getFilter } from "./filters.ts";
import {
  checkArrayLength,
  getOwn,
  isForbiddenKey,
  isJsonObject,
  isTruthy,
  type JsonValue,
  type Meter,
  typeName,
} from "./json.ts";
import { MAX_EVALUATION_STEPS } from "./limits.ts";
import { applyBinary, negate } from "./operators.ts";

/** What an expression can read: `$` and the context roots. A root missing here reads as null. */
export interface EvaluationContext {
  /** The execution data, `$`. */
  readonly data: JsonValue;
  /** `workflow.input`, `workflow.id`, `workflow.name`. */
  readonly workflow?: { readonly input: JsonValue; readonly id: string; readonly name: string };
  /** `execution.id`, `execution.start_time` (an ISO 8601 timestamp). */
  readonly execution?: { readonly id: string; readonly start_time: string };
  /** `state.name`, `state.attempt` (1 for the first attempt). */
  readonly state?: { readonly name: string; readonly attempt: number };
  /** `map.index` (0-based), `map.item`, inside a Map iteration. */
  readonly map?: { readonly index: number; readonly item: JsonValue };
}

/** Options of an evaluation. */
export interface EvaluateOptions {
  /** Most evaluation steps the call may take (a non-negative integer); default {@link MAX_EVALUATION_STEPS}. */
  readonly budget?: number;
}

/** Steps left to one evaluation call, shared by every template it evaluates. */
export interface Budget {
  /** The steps the call started with. */
  readonly limit: number;
  /** The steps still available; below zero means exhausted. */
  remaining: number;
}

/** A fresh budget from `options`; throws `EXPR_ARGUMENT` when `options.budget` is not a non-negative integer. */
export function createBudget(options: EvaluateOptions | undefined, source: string): Budget {
  const limit = options?.budget ?? MAX_EVALUATION_STEPS;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new ExpressionError(
      "EXPR_ARGUMENT",
      "the evaluation budget must be a non-negative integer",
      {
        source,
      },
    );
  }
  return { limit, remaining: limit };
}

/** A key or index looked up by one path step. */
type Key = string | number;

/** One step of a path; `undefined` when it is missing. Reads own properties and real array elements only. */
function step(value: JsonValue, key: Key): JsonValue | undefined {
  if (typeof key === "string") return isJsonObject(value) ? getOwn(value, key) : undefined;
  if (!Array.isArray(value)) return undefined;
  const index = key < 0 ? value.length + key : key;
  return index >= 0 && index < value.length ? value[index] : undefined;
}

/** Walks an expression tree against a context, paying for each step out of a shared budget. */
export class Evaluator implements Meter {
  private readonly source: string;
  private readonly context: EvaluationContext;
  private readonly budget: Budget;
  /** The span that errors point at: the node being evaluated. */
  private at: Span = { offset: 0, length: 0 };

  /**
   * @param source the template source, for error messages and offsets
   * @param context what the expressions read
   * @param budget steps left, shared with other evaluators of the same call
   */
  constructor(source: string, context: EvaluationContext, budget: Budget) {
    this.source = source;
    this.context = context;
    this.budget = budget;
  }

  /** Pays `steps` out of the budget; throws `EXPR_BUDGET` when it is exhausted. */
  charge(steps: number): void {
    this.budget.remaining -= steps;
    if (this.budget.remaining < 0) {
      this.fail("EXPR_BUDGET", `evaluation took more than ${this.budget.limit} steps`);
    }
  }

  /** Throws an `ExpressionError` pointing at the expression being evaluated. */
  fail(code: ExpressionErrorCode, reason: string): never {
    throw new ExpressionError(code, reason, {
      source: this.source,
      offset: this.at.offset,
      length: this.at.length,
    });
  }

  /** The value of `expression`; throws `ExpressionError` on type errors and exhausted limits. */
  evaluate(expression: Expression): JsonValue {
    this.at = expression;
    this.charge(1);
    switch (expression.type) {
      case "literal":
        return expression.value;
      case "array":
        return expression.items.map((item) => this.evaluate(item));
      case "data":
        return this.context.data;
      case "context":
        return this.contextValue(expression);
      case "path":
        return this.path(expression);
      case "unary": {
        const operand = this.evaluate(expression.operand);
        this.at = expression;
        return expression.operator === "not" ? !isTruthy(operand) : negate(operand, this);
      }
      case "binary": {
        const { operator, left, right } = expression;
        if (operator === "and")
          return isTruthy(this.evaluate(left)) && isTruthy(this.evaluate(right));
        if (operator === "or")
          return isTruthy(this.evaluate(left)) || isTruthy(this.evaluate(right));
        const leftValue = this.evaluate(left);
        const rightValue = this.evaluate(right);
        this.at = expression;
        return applyBinary(operator, leftValue, rightValue, this);
      }
      case "filter": {
        const input = this.evaluate(expression.input);
        const args = expression.args.map((arg) => this.evaluate(arg));
        this.at = expression.nameSpan;
        const filter = getFilter(expression.name);
        if (filter === undefined)
          return this.fail("EXPR_UNKNOWN_FILTER", `unknown filter '${expression.name}'`);
        const problem = filter.checkArgs?.(args);
        if (problem !== undefined) this.fail("EXPR_ARGUMENT", problem);
        return filter.apply(input, args, this);
      }
    }
  }

  private contextValue(node: ContextNode): JsonValue {
    const { workflow, execution, state, map } = this.context;
    switch (node.root) {
      case "workflow":
        if (workflow === undefined) return null;
        return node.field === "input"
          ? workflow.input
          : node.field === "id"
            ? workflow.id
            : workflow.name;
      case "execution":
        if (execution === undefined) return null;
        return node.field === "id" ? execution.id : execution.start_time;
      case "state":
        if (state === undefined) return null;
        return node.field === "name" ? state.name : state.attempt;
      case "map":
        if (map === undefined) return null;
        return node.field === "index" ? map.index : map.item;
    }
  }

  /** The key a segment looks up, or null when a computed key is null (a missing path). */
  private segmentKey(segment: Exclude<Segment, { type: "wildcard" }>): Key | null {
    switch (segment.type) {
      case "key":
        return segment.key;
      case "index":
        return segment.index;
      case "dynamic": {
        const key = this.evaluate(segment.expression);
        this.at = segment;
        if (key === null) return null;
        if (typeof key === "string") {
          if (isForbiddenKey(key)) this.fail("EXPR_FORBIDDEN_KEY", `key '${key}' is not allowed`);
          return key;
        }
        if (typeof key === "number") {
          if (!Number.isSafeInteger(key))
            this.fail("EXPR_TYPE", `an index must be an integer, got ${key}`);
          return key;
        }
        return this.fail(
          "EXPR_TYPE",
          `an index must be a string or an integer, got ${typeName(key)}`,
        );
      }
    }
  }

  /**
   * Missing steps read as null. After `[*]` the rest of the path maps over the
   * elements, skipping those where it is missing; a later `[*]` flattens one level.
   */
  private path(node: PathNode): JsonValue {
    let current: JsonValue = this.evaluate(node.base);
    let items: JsonValue[] | undefined;
    for (const segment of node.segments) {
      this.at = segment;
      if (segment.type === "wildcard") {
        if (items === undefined) {
          if (!Array.isArray(current)) return null;
          this.charge(current.length);
          items = current;
        } else {
          const flat: JsonValue[] = [];
          for (const item of items) {
            if (!Array.isArray(item)) continue;
            this.charge(item.length);
            checkArrayLength(flat.length + item.length, this);
            for (const element of item) flat.push(element);
          }
          items = flat;
        }
        continue;
      }
      const key = this.segmentKey(segment);
      if (key === null) return null;
      if (items === undefined) {
        const value = step(current, key);
        if (value === undefined) return null;
        current = value;
      } else {
        this.charge(items.length);
        const next: JsonValue[] = [];
        for (const item of items) {
          const value = step(item, key);
          if (value !== undefined) next.push(value);
        }
        items = next;
      }
    }
    return items ?? current;
  }
}
