import type { ExpressionErrorCode } from "./errors.ts";
import {
  MAX_ARRAY_LENGTH,
  MAX_STRING_LENGTH,
  MAX_VALUE_DEPTH,
  STRING_CHARS_PER_STEP,
} from "./limits.ts";

/** A JSON value: what templates read and produce. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Name of a JSON value's type, as used in error messages. */
export type JsonTypeName = "null" | "boolean" | "number" | "string" | "array" | "object";

/**
 * What an operation needs from the evaluation running it: a step counter that
 * throws when the budget is spent, and a way to fail at the current expression.
 */
export interface Meter {
  /** Pays `steps` evaluation steps; throws `EXPR_BUDGET` when the budget is exhausted. */
  charge(steps: number): void;
  /** Throws an `ExpressionError` located at the expression being evaluated. */
  fail(code: ExpressionErrorCode, reason: string): never;
}

/** Keys that are never read or written, so no template can reach a prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  "__proto__",
  "constructor",
  "prototype",
]);

/** Whether `key` is one of {@link FORBIDDEN_KEYS}. */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The type name of a JSON value. */
export function typeName(value: JsonValue): JsonTypeName {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "number":
      return "number";
    case "string":
      return "string";
    default:
      return "object";
  }
}

/** An own, non-forbidden property of `object`, or `undefined`. Never consults the prototype chain. */
export function getOwn(object: JsonObject, key: string): JsonValue | undefined {
  return !isForbiddenKey(key) && Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Truthiness as in Jinja and Python: `false`, `null`, `0`, `""`, `[]` and `{}`
 * are falsy; every other value is truthy.
 */
export function isTruthy(value: JsonValue): boolean {
  if (value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") {
    for (const key in value) {
      if (Object.hasOwn(value, key)) return true;
    }
    return false;
  }
  return true;
}

/** Pays for touching `length` characters of a string. */
export function chargeChars(length: number, meter: Meter): void {
  if (length >= STRING_CHARS_PER_STEP) meter.charge(Math.floor(length / STRING_CHARS_PER_STEP));
}

/** Fails with `EXPR_BUDGET` unless a string of `length` characters may be produced. */
export function checkStringLength(length: number, meter: Meter): void {
  if (length > MAX_STRING_LENGTH) {
    meter.fail("EXPR_BUDGET", `result string is longer than ${MAX_STRING_LENGTH} characters`);
  }
}

/** Fails with `EXPR_BUDGET` unless an array of `length` elements may be produced. */
export function checkArrayLength(length: number, meter: Meter): void {
  if (length > MAX_ARRAY_LENGTH) {
    meter.fail("EXPR_BUDGET", `result array is longer than ${MAX_ARRAY_LENGTH} elements`);
  }
}

/** A finite number for JSON: fails with `EXPR_TYPE` on infinities and NaN, and turns -0 into 0. */
export function finiteNumber(value: number, meter: Meter): number {
  if (!Number.isFinite(value)) meter.fail("EXPR_TYPE", "the result is not a finite number");
  return value === 0 ? 0 : value;
}

function tooDeep(meter: Meter): never {
  return meter.fail("EXPR_BUDGET", `value is nested deeper than ${MAX_VALUE_DEPTH} levels`);
}

/** Deep structural equality of JSON values, without coercion; object key order is ignored. */
export function deepEqual(a: JsonValue, b: JsonValue, meter: Meter, depth = 0): boolean {
  meter.charge(1);
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth >= MAX_VALUE_DEPTH) tooDeep(meter);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      if (!deepEqual(a[i] as JsonValue, b[i] as JsonValue, meter, depth + 1)) return false;
    }
    return true;
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(b, key)) return false;
    if (!deepEqual(a[key] as JsonValue, b[key] as JsonValue, meter, depth + 1)) return false;
  }
  return true;
}

/** A string that is equal for two values exactly when {@link deepEqual} holds between them. */
export function canonicalKey(value: JsonValue, meter: Meter, depth = 0): string {
  meter.charge(1);
  if (typeof value !== "object" || value === null) {
    if (typeof value === "string") chargeChars(value.length, meter);
    return JSON.stringify(value);
  }
  if (depth >= MAX_VALUE_DEPTH) tooDeep(meter);
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalKey(item, meter, depth + 1)).join(",")}]`;
  }
  const keys = Object.keys(value).sort();
  const members = keys.map(
    (key) => `${JSON.stringify(key)}:${canonicalKey(value[key] as JsonValue, meter, depth + 1)}`,
  );
  return `{${members.join(",")}}`;
}

/** Pays for walking `value` and returns a lower bound of its JSON text length. */
function measure(value: JsonValue, meter: Meter, depth: number): number {
  meter.charge(1);
  if (typeof value === "string") {
    chargeChars(value.length, meter);
    return value.length + 2;
  }
  if (typeof value !== "object" || value === null) return 1;
  if (depth >= MAX_VALUE_DEPTH) tooDeep(meter);
  let size = 2;
  if (Array.isArray(value)) {
    for (const item of value) size += measure(item, meter, depth + 1) + 1;
  } else {
    for (const key of Object.keys(value)) {
      size += key.length + 4 + measure(value[key] as JsonValue, meter, depth + 1);
    }
  }
  checkStringLength(size, meter);
  return size;
}

/** `JSON.stringify(value)`, paid for and bounded by the string length limit. */
export function toJsonText(value: JsonValue, meter: Meter): string {
  measure(value, meter, 0);
  const text = JSON.stringify(value);
  checkStringLength(text.length, meter);
  return text;
}

/** The string form of a value: a string as itself, anything else as JSON. */
export function stringForm(value: JsonValue, meter: Meter): string {
  return typeof value === "string" ? value : toJsonText(value, meter);
}
