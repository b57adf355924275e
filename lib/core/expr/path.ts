/**
 * Result paths: where a state's result lands in the execution data, e.g.
 * `$.identity`, `$.items[0]`, `$['odd key']`. Static only: no `[*]`, no
 * filters, no computed or negative indexes.
 */
import { ExpressionError } from "./errors.ts";
import {
  getOwn,
  isForbiddenKey,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  typeName,
} from "./json.ts";
import { isIdentifierPart, isIdentifierStart, quoteString, readStringLiteral } from "./lexer.ts";
import { MAX_ARRAY_LENGTH } from "./limits.ts";

/** One step of a result path: an object key or an array index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_]*$/;

function pathError(
  source: string,
  reason: string,
  offset: number,
  length: number,
): ExpressionError {
  return new ExpressionError("EXPR_PATH", reason, { source, offset, length });
}

function forbiddenKeyError(
  source: string,
  key: string,
  offset: number,
  length: number,
): ExpressionError {
  return new ExpressionError("EXPR_FORBIDDEN_KEY", `key '${key}' is not allowed`, {
    source,
    offset,
    length,
  });
}

/**
 * Parses a result path. `"$"` is the empty path (the whole document).
 * Throws `ExpressionError` with code `EXPR_PATH` (and the offset of the problem)
 * on bad syntax, or `EXPR_FORBIDDEN_KEY` for `__proto__`, `constructor` or `prototype`.
 */
export function parsePath(source: string): readonly PathSegment[] {
  if (source[0] !== "$")
    throw pathError(source, "a path must start with '$'", 0, source.length > 0 ? 1 : 0);
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < source.length) {
    const start = i;
    const char = source[i];
    if (char === ".") {
      if (!isIdentifierStart(source[i + 1])) {
        throw pathError(
          source,
          "expected a field name after '.'; quote other keys as ['key']",
          i,
          1,
        );
      }
      let end = i + 2;
      while (isIdentifierPart(source[end])) end++;
      const key = source.slice(i + 1, end);
      if (isForbiddenKey(key)) throw forbiddenKeyError(source, key, start, end - start);
      segments.push(key);
      i = end;
    } else if (char === "[") {
      const next = source[i + 1];
      let end: number;
      if (next === "'" || next === '"') {
        const literal = readStringLiteral(source, i + 1, "EXPR_PATH");
        if (isForbiddenKey(literal.value)) {
          throw forbiddenKeyError(source, literal.value, start, literal.end - start + 1);
        }
        segments.push(literal.value);
        end = literal.end;
      } else {
        const digits = /^[0-9]+/.exec(source.slice(i + 1))?.[0];
        if (digits === undefined) {
          const reason =
            next === "*"
              ? "a result path cannot contain [*]"
              : next === "-"
                ? "a result path cannot contain a negative index"
                : "expected an index or a quoted key after '['";
          throw pathError(source, reason, i, 1);
        }
        if (digits.length > 1 && digits.startsWith("0")) {
          throw pathError(source, "an index cannot have leading zeros", i + 1, digits.length);
        }
        const index = Number(digits);
        if (index >= MAX_ARRAY_LENGTH) {
          throw pathError(
            source,
            `an index must be below ${MAX_ARRAY_LENGTH}`,
            i + 1,
            digits.length,
          );
        }
        segments.push(index);
        end = i + 1 + digits.length;
      }
      if (source[end] !== "]")
        throw pathError(source, "expected ']'", end, end < source.length ? 1 : 0);
      i = end + 1;
    } else {
      throw pathError(source, "expected '.' or '[' in a path", i, 1);
    }
  }
  return segments;
}

/** The canonical text of one segment: `.name`, `['odd key']` or `[3]`. */
export function formatSegment(segment: PathSegment): string {
  if (typeof segment === "number") return `[${segment}]`;
  return IDENTIFIER.test(segment) ? `.${segment}` : `[${quoteString(segment)}]`;
}

/** The canonical text of a path, the inverse of {@link parsePath}: `$.a.b[0]['odd key']`. */
export function formatPath(path: readonly PathSegment[]): string {
  return `$${path.map(formatSegment).join("")}`;
}

/** The value at `path` in `data`, or `undefined` when missing. Reads own properties only; never a forbidden key. */
export function getPath(data: JsonValue, path: readonly PathSegment[]): JsonValue | undefined {
  let current: JsonValue | undefined = data;
  for (const segment of path) {
    if (current === undefined) return undefined;
    if (typeof segment === "string") {
      current = isJsonObject(current) ? getOwn(current, segment) : undefined;
    } else {
      current =
        Array.isArray(current) && Number.isInteger(segment) && segment >= 0
          ? current[segment]
          : undefined;
    }
  }
  return current;
}

/** The formatted path and the span of segment `index` in it, for errors. */
function locate(
  path: readonly PathSegment[],
  index: number,
): { source: string; offset: number; length: number } {
  const prefix = formatPath(path.slice(0, index));
  return {
    source: formatPath(path),
    offset: prefix.length,
    length: formatSegment(path[index] ?? "").length,
  };
}

function checkSegment(path: readonly PathSegment[], index: number): void {
  const segment = path[index];
  const { source, offset, length } = locate(path, index);
  if (typeof segment === "string") {
    if (isForbiddenKey(segment)) throw forbiddenKeyError(source, segment, offset, length);
  } else if (
    segment === undefined ||
    !Number.isSafeInteger(segment) ||
    segment < 0 ||
    segment >= MAX_ARRAY_LENGTH
  ) {
    throw pathError(
      source,
      `an index must be an integer from 0 to ${MAX_ARRAY_LENGTH - 1}`,
      offset,
      length,
    );
  }
}

/**
 * A new document equal to `data` with `value` at `path`; `data` is never
 * mutated (unchanged branches are shared). Missing or null intermediates become
 * objects, or arrays when the next segment is a number; an array is padded with
 * nulls up to a new index. The empty path replaces the whole document.
 * Throws `ExpressionError` `EXPR_PATH` when an intermediate is a scalar or of the
 * wrong kind (the offset points at the segment), or `EXPR_FORBIDDEN_KEY`.
 */
export function setPath(
  data: JsonValue,
  path: readonly PathSegment[],
  value: JsonValue,
): JsonValue {
  for (let i = 0; i < path.length; i++) checkSegment(path, i);
  const containers: (JsonObject | JsonValue[] | undefined)[] = [];
  let current: JsonValue | undefined = data;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as PathSegment;
    if (current === undefined || current === null) {
      containers.push(undefined);
      current = undefined;
    } else if (typeof segment === "string" ? isJsonObject(current) : Array.isArray(current)) {
      const container = current as JsonObject | JsonValue[];
      containers.push(container);
      current = getPath(container, [segment]);
    } else {
      const { source, offset, length } = locate(path, i);
      const what = typeof segment === "string" ? `field '${segment}'` : `index ${segment}`;
      const kind = typeName(current);
      throw pathError(
        source,
        `cannot set ${what} inside ${kind === "array" || kind === "object" ? "an" : "a"} ${kind}`,
        offset,
        length,
      );
    }
  }
  let result = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i] as PathSegment;
    const container = containers[i];
    if (typeof segment === "string") {
      const copy: JsonObject = { ...(container as JsonObject | undefined) };
      copy[segment] = result;
      result = copy;
    } else {
      const copy = container === undefined ? [] : (container as JsonValue[]).slice();
      while (copy.length < segment) copy.push(null);
      copy[segment] = result;
      result = copy;
    }
  }
  return result;
}
