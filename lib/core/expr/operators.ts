import type { BinaryOperator } from "./ast.ts";
import {
  chargeChars,
  checkArrayLength,
  checkStringLength,
  deepEqual,
  finiteNumber,
  type JsonValue,
  type Meter,
  typeName,
} from "./json.ts";

/** Binary operators whose operands are both always evaluated. */
export type StrictOperator = Exclude<BinaryOperator, "and" | "or">;

/**
 * Whether `item` is in `container`: an element of an array (deep equality), a
 * substring of a string, or an own key of an object. `what` names the operator
 * or filter in error messages.
 */
export function membership(
  container: JsonValue,
  item: JsonValue,
  meter: Meter,
  what: string,
): boolean {
  if (Array.isArray(container)) {
    meter.charge(container.length);
    return container.some((element) => deepEqual(element, item, meter));
  }
  if (typeof container === "string") {
    if (typeof item !== "string") {
      meter.fail(
        "EXPR_TYPE",
        `${what} on a string needs a string to look for, got ${typeName(item)}`,
      );
    }
    chargeChars(container.length, meter);
    return container.includes(item);
  }
  if (typeof container === "object" && container !== null) {
    if (typeof item !== "string") {
      meter.fail("EXPR_TYPE", `${what} on an object needs a string key, got ${typeName(item)}`);
    }
    return Object.hasOwn(container, item);
  }
  return meter.fail(
    "EXPR_TYPE",
    `${what} needs an array, a string or an object to look in, got ${typeName(container)}`,
  );
}

function compare(
  operator: "<" | "<=" | ">" | ">=",
  left: JsonValue,
  right: JsonValue,
  meter: Meter,
): boolean {
  if (
    !(typeof left === "number" && typeof right === "number") &&
    !(typeof left === "string" && typeof right === "string")
  ) {
    return meter.fail("EXPR_TYPE", `cannot compare ${typeName(left)} with ${typeName(right)}`);
  }
  if (typeof left === "string") chargeChars(left.length, meter);
  switch (operator) {
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    case ">=":
      return left >= right;
  }
}

function add(left: JsonValue, right: JsonValue, meter: Meter): JsonValue {
  if (typeof left === "number" && typeof right === "number")
    return finiteNumber(left + right, meter);
  if (typeof left === "string" && typeof right === "string") {
    checkStringLength(left.length + right.length, meter);
    chargeChars(left.length + right.length, meter);
    return left + right;
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    checkArrayLength(left.length + right.length, meter);
    meter.charge(left.length + right.length);
    return [...left, ...right];
  }
  return meter.fail(
    "EXPR_TYPE",
    `operator '+' needs two numbers, two strings or two arrays, got ${typeName(left)} and ${typeName(right)}`,
  );
}

function arithmetic(
  operator: "-" | "*" | "/" | "%",
  left: JsonValue,
  right: JsonValue,
  meter: Meter,
): number {
  if (typeof left !== "number" || typeof right !== "number") {
    return meter.fail(
      "EXPR_TYPE",
      `operator '${operator}' needs two numbers, got ${typeName(left)} and ${typeName(right)}`,
    );
  }
  switch (operator) {
    case "-":
      return finiteNumber(left - right, meter);
    case "*":
      return finiteNumber(left * right, meter);
    case "/":
      if (right === 0) meter.fail("EXPR_DIVISION_BY_ZERO", "division by zero");
      return finiteNumber(left / right, meter);
    case "%":
      if (right === 0) meter.fail("EXPR_DIVISION_BY_ZERO", "modulo by zero");
      return finiteNumber(left % right, meter);
  }
}

/** Applies a binary operator other than `and` / `or` to evaluated operands. */
export function applyBinary(
  operator: StrictOperator,
  left: JsonValue,
  right: JsonValue,
  meter: Meter,
): JsonValue {
  switch (operator) {
    case "==":
      return deepEqual(left, right, meter);
    case "!=":
      return !deepEqual(left, right, meter);
    case "<":
    case "<=":
    case ">":
    case ">=":
      return compare(operator, left, right, meter);
    case "in":
      return membership(right, left, meter, "operator 'in'");
    case "not in":
      return !membership(right, left, meter, "operator 'not in'");
    case "+":
      return add(left, right, meter);
    case "-":
    case "*":
    case "/":
    case "%":
      return arithmetic(operator, left, right, meter);
  }
}

/** Applies unary minus. */
export function negate(operand: JsonValue, meter: Meter): number {
  if (typeof operand !== "number") {
    return meter.fail("EXPR_TYPE", `unary '-' needs a number, got ${typeName(operand)}`);
  }
  return finiteNumber(-operand, meter);
}
