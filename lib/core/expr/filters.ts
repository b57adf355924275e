import {
  canonicalKey,
  chargeChars,
  checkArrayLength,
  checkStringLength,
  finiteNumber,
  type JsonValue,
  type Meter,
  stringForm,
  toJsonText,
  typeName,
} from "./json.ts";
import { MAX_ARRAY_LENGTH, MAX_SHARD_COUNT } from "./limits.ts";
import { membership } from "./operators.ts";

/** How a filter is called and what it computes. */
export interface FilterDefinition {
  /** Fewest arguments accepted. */
  readonly minArgs: number;
  /** Most arguments accepted. */
  readonly maxArgs: number;
  /**
   * Checks argument values and returns why they are wrong, or `undefined`.
   * Runs at parse time when every argument is a literal, and at evaluation otherwise.
   */
  readonly checkArgs?: (args: readonly JsonValue[]) => string | undefined;
  /** Computes the result; fails with `EXPR_TYPE` on an input it does not accept. */
  readonly apply: (input: JsonValue, args: readonly JsonValue[], meter: Meter) => JsonValue;
}

/** Default number of shards of the `shard` filter. */
export const DEFAULT_SHARD_COUNT = 10;

/** Most digits `round(digits)` accepts. */
export const MAX_ROUND_DIGITS = 15;

const STRICT_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return "nothing";
  return typeof value === "number" ? String(value) : typeName(value);
}

function isIntegerIn(value: JsonValue | undefined, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function wrongInput(name: string, expected: string, input: JsonValue, meter: Meter): never {
  return meter.fail("EXPR_TYPE", `filter '${name}' needs ${expected}, got ${typeName(input)}`);
}

function expectString(name: string, input: JsonValue, meter: Meter): string {
  if (typeof input !== "string") wrongInput(name, "a string", input, meter);
  chargeChars(input.length, meter);
  return input;
}

function expectNumber(name: string, input: JsonValue, meter: Meter): number {
  return typeof input === "number" ? input : wrongInput(name, "a number", input, meter);
}

function expectArray(name: string, input: JsonValue, meter: Meter): JsonValue[] {
  if (!Array.isArray(input)) wrongInput(name, "an array", input, meter);
  meter.charge(input.length);
  return input;
}

/** The elements of `input` when they are all numbers or all strings. */
function expectSortable(
  name: string,
  input: JsonValue,
  meter: Meter,
): readonly number[] | readonly string[] {
  const items = expectArray(name, input, meter);
  if (items.every((item) => typeof item === "number")) return items as number[];
  if (items.every((item) => typeof item === "string")) return items as string[];
  const kinds = [...new Set(items.map(typeName))].join(" and ");
  return meter.fail(
    "EXPR_TYPE",
    `filter '${name}' needs an array of only numbers or only strings, found ${kinds}`,
  );
}

function expectObject(name: string, input: JsonValue, meter: Meter): { [key: string]: JsonValue } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return wrongInput(name, "an object", input, meter);
  }
  return input;
}

const FNV_OFFSET_BASIS = 2166136261;
const FNV_PRIME = 16777619;

/** 32-bit FNV-1a over the UTF-8 bytes of `text` (lone surrogates encode as U+FFFD, as TextEncoder does). */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  const mix = (byte: number): void => {
    hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  };
  for (const char of text) {
    let code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) {
      mix(code);
    } else if (code < 0x800) {
      mix(0xc0 | (code >> 6));
      mix(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      mix(0xe0 | (code >> 12));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    } else {
      mix(0xf0 | (code >> 18));
      mix(0x80 | ((code >> 12) & 0x3f));
      mix(0x80 | ((code >> 6) & 0x3f));
      mix(0x80 | (code & 0x3f));
    }
  }
  return hash;
}

/** `value` scaled by 10^digits, exactly as its decimal digits read (no binary rounding error). */
function shiftDecimal(value: number, digits: number): number {
  const [mantissa, exponent] = value.toExponential().split("e");
  return Number(`${mantissa}e${Number(exponent) + digits}`);
}

/** Rounds half away from zero to `digits` decimal places: `round(2.5) = 3`, `round(-2.5) = -3`, `round(1.005, 2) = 1.01`. */
export function roundHalfAwayFromZero(value: number, digits: number): number {
  if (Number.isInteger(value)) return value;
  const magnitude = shiftDecimal(Math.round(shiftDecimal(Math.abs(value), digits)), -digits);
  return value < 0 ? -magnitude : magnitude;
}

function countCodePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function join(input: JsonValue, separator: string, meter: Meter): string {
  const parts = expectArray("join", input, meter).map((item, index) => {
    if (typeof item === "object" && item !== null) {
      meter.fail(
        "EXPR_TYPE",
        `filter 'join' needs an array of strings, numbers, booleans or nulls; element ${index} is ${Array.isArray(item) ? "an array" : "an object"}`,
      );
    }
    return typeof item === "string" ? item : JSON.stringify(item);
  });
  let length = Math.max(0, parts.length - 1) * separator.length;
  for (const part of parts) length += part.length;
  checkStringLength(length, meter);
  chargeChars(length, meter);
  return parts.join(separator);
}

function split(input: JsonValue, separator: string, meter: Meter): string[] {
  const text = expectString("split", input, meter);
  let parts: string[];
  if (separator === "") {
    parts = [];
    for (const char of text) {
      parts.push(char);
      if (parts.length > MAX_ARRAY_LENGTH) break;
    }
  } else {
    parts = text.split(separator, MAX_ARRAY_LENGTH + 1);
  }
  checkArrayLength(parts.length, meter);
  meter.charge(parts.length);
  return parts;
}

function unique(input: JsonValue, meter: Meter): JsonValue[] {
  const seen = new Set<string>();
  const result: JsonValue[] = [];
  for (const item of expectArray("unique", input, meter)) {
    const key = canonicalKey(item, meter);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(item);
    }
  }
  return result;
}

function extreme(name: "min" | "max", input: JsonValue, meter: Meter): JsonValue {
  const items = expectSortable(name, input, meter);
  let best: number | string | undefined;
  for (const item of items) {
    if (best === undefined || (name === "min" ? item < best : item > best)) best = item;
  }
  return best ?? null;
}

function sort(input: JsonValue, meter: Meter): JsonValue[] {
  const items = expectSortable("sort", input, meter);
  meter.charge(items.length * Math.ceil(Math.log2(items.length + 1)));
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function toNumber(input: JsonValue, meter: Meter): number {
  if (typeof input === "number") return input;
  if (typeof input === "string" && STRICT_NUMBER.test(input)) {
    const value = Number(input);
    if (Number.isFinite(value)) return value === 0 ? 0 : value;
  }
  const shown = typeof input === "string" ? "a string that is not a number" : typeName(input);
  return meter.fail(
    "EXPR_TYPE",
    `filter 'number' needs a number or a numeric string, got ${shown}`,
  );
}

const FILTERS: ReadonlyMap<string, FilterDefinition> = new Map<string, FilterDefinition>([
  [
    "shard",
    {
      minArgs: 0,
      maxArgs: 1,
      checkArgs: ([count]) =>
        count === undefined || isIntegerIn(count, 1, MAX_SHARD_COUNT)
          ? undefined
          : `shard count must be an integer from 1 to ${MAX_SHARD_COUNT}, got ${describe(count)}`,
      apply: (input, [count], meter) => {
        const text = stringForm(input, meter);
        chargeChars(text.length, meter);
        const shards = typeof count === "number" ? count : DEFAULT_SHARD_COUNT;
        return `shard-${fnv1a32(text) % shards}`;
      },
    },
  ],
  [
    "length",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => {
        if (typeof input === "string") {
          chargeChars(input.length, meter);
          return countCodePoints(input);
        }
        if (Array.isArray(input)) return input.length;
        if (typeof input === "object" && input !== null) return Object.keys(input).length;
        return wrongInput("length", "a string, an array or an object", input, meter);
      },
    },
  ],
  [
    "default",
    {
      minArgs: 1,
      maxArgs: 1,
      apply: (input, [fallback]) => (input === null ? (fallback ?? null) : input),
    },
  ],
  [
    "lower",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => expectString("lower", input, meter).toLowerCase(),
    },
  ],
  [
    "upper",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => expectString("upper", input, meter).toUpperCase(),
    },
  ],
  [
    "trim",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => expectString("trim", input, meter).trim(),
    },
  ],
  ["json", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => toJsonText(input, meter) }],
  [
    "keys",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => {
        const keys = Object.keys(expectObject("keys", input, meter));
        meter.charge(keys.length);
        return keys;
      },
    },
  ],
  [
    "values",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => {
        const values = Object.values(expectObject("values", input, meter));
        meter.charge(values.length);
        return values;
      },
    },
  ],
  [
    "sum",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => {
        let total = 0;
        for (const item of expectArray("sum", input, meter)) {
          total +=
            typeof item === "number"
              ? item
              : meter.fail(
                  "EXPR_TYPE",
                  `filter 'sum' needs an array of numbers, found ${typeName(item)}`,
                );
        }
        return finiteNumber(total, meter);
      },
    },
  ],
  ["min", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => extreme("min", input, meter) }],
  ["max", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => extreme("max", input, meter) }],
  [
    "round",
    {
      minArgs: 0,
      maxArgs: 1,
      checkArgs: ([digits]) =>
        digits === undefined || isIntegerIn(digits, 0, MAX_ROUND_DIGITS)
          ? undefined
          : `round digits must be an integer from 0 to ${MAX_ROUND_DIGITS}, got ${describe(digits)}`,
      apply: (input, [digits], meter) =>
        finiteNumber(
          roundHalfAwayFromZero(
            expectNumber("round", input, meter),
            typeof digits === "number" ? digits : 0,
          ),
          meter,
        ),
    },
  ],
  [
    "floor",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) =>
        finiteNumber(Math.floor(expectNumber("floor", input, meter)), meter),
    },
  ],
  [
    "ceil",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) =>
        finiteNumber(Math.ceil(expectNumber("ceil", input, meter)), meter),
    },
  ],
  [
    "abs",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) =>
        finiteNumber(Math.abs(expectNumber("abs", input, meter)), meter),
    },
  ],
  [
    "join",
    {
      minArgs: 0,
      maxArgs: 1,
      checkArgs: ([separator]) =>
        separator === undefined || typeof separator === "string"
          ? undefined
          : `join separator must be a string, got ${describe(separator)}`,
      apply: (input, [separator], meter) =>
        join(input, typeof separator === "string" ? separator : ",", meter),
    },
  ],
  [
    "first",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => expectArray("first", input, meter)[0] ?? null,
    },
  ],
  [
    "last",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => expectArray("last", input, meter).at(-1) ?? null,
    },
  ],
  ["string", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => stringForm(input, meter) }],
  ["number", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => toNumber(input, meter) }],
  ["unique", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => unique(input, meter) }],
  ["sort", { minArgs: 0, maxArgs: 0, apply: (input, _args, meter) => sort(input, meter) }],
  [
    "reverse",
    {
      minArgs: 0,
      maxArgs: 0,
      apply: (input, _args, meter) => {
        if (Array.isArray(input)) {
          meter.charge(input.length);
          return [...input].reverse();
        }
        if (typeof input === "string") {
          chargeChars(input.length, meter);
          return Array.from(input).reverse().join("");
        }
        return wrongInput("reverse", "an array or a string", input, meter);
      },
    },
  ],
  [
    "split",
    {
      minArgs: 1,
      maxArgs: 1,
      checkArgs: ([separator]) =>
        typeof separator === "string"
          ? undefined
          : `split separator must be a string, got ${describe(separator)}`,
      apply: (input, [separator], meter) =>
        split(input, typeof separator === "string" ? separator : "", meter),
    },
  ],
  [
    "contains",
    {
      minArgs: 1,
      maxArgs: 1,
      apply: (input, [item], meter) => membership(input, item ?? null, meter, "filter 'contains'"),
    },
  ],
]);

/** The filter called `name`, or `undefined`. */
export function getFilter(name: string): FilterDefinition | undefined {
  return FILTERS.get(name);
}

/** Names of every filter, in documentation order. */
export const FILTER_NAMES: readonly string[] = Object.freeze([...FILTERS.keys()]);
