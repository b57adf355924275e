/**
 * Checks a document's shape against CDL's JSON Schema (`schema.ts`), reporting
 * every problem at once: unknown keys (with a "did you mean"), missing keys,
 * wrong types, bad enums, malformed durations, paths, resources and expressions.
 */
import { ExpressionError, parsePath, parseTemplate } from "../expr/index.ts";
import { suggest } from "../suggest.ts";
import { CDL_CODES, type CdlCode, type Diagnostic } from "./diagnostics.ts";
import { parseDuration } from "./duration.ts";
import type { JsonSchema, JsonSchemaType } from "./schema.ts";
import { type DocPath, formatDocPath, type ParsedDocument } from "./source.ts";

/** Reports one problem at a path; `part` says whether to point at the key or the value. */
export type Report = (
  code: CdlCode | `CONFIG_${string}`,
  path: DocPath,
  message: string,
  options?: {
    part?: "key" | "value";
    suggestion?: string;
    severity?: "error" | "warning";
    offset?: number;
    length?: number;
  },
) => void;

/** Builds a `Report` that turns paths into positions in `doc`. */
export function reporter(doc: ParsedDocument, sink: Diagnostic[]): Report {
  return (code, path, message, options = {}) => {
    const span = doc.locate(path, options.part ?? "value");
    const offset = span.offset + (options.offset ?? 0);
    const { line, column } = doc.source.position(offset);
    sink.push({
      code,
      severity: options.severity ?? "error",
      message,
      file: doc.source.name,
      line,
      column,
      length: options.length ?? span.length,
      path: formatDocPath(path),
      ...(options.suggestion === undefined ? {} : { suggestion: options.suggestion }),
    });
  };
}

/** Options that tune messages, e.g. what to call the root object. */
export interface StructureOptions {
  readonly rootLabel: string;
}

/** Validates `value` against `schema` (whose `$ref`s resolve in `root`); returns nothing, reports everything. */
export function checkStructure(
  doc: ParsedDocument,
  root: JsonSchema,
  report: Report,
  options: StructureOptions,
): void {
  const resolve = (schema: JsonSchema): JsonSchema => {
    let current = schema;
    for (let hops = 0; current.$ref !== undefined && hops < 16; hops++) {
      const name = current.$ref.replace("#/definitions/", "");
      const target = root.definitions?.[name];
      if (!target) throw new Error(`CDL schema: unresolved $ref ${current.$ref}`);
      current = target;
    }
    return current;
  };

  /** The keys a schema (or every branch of a union) knows, and those it requires. */
  const shapes = new Map<JsonSchema, { known: Set<string>; required: string[] }>();
  const shapeOf = (schema: JsonSchema): { known: Set<string>; required: string[] } => {
    const cached = shapes.get(schema);
    if (cached) return cached;
    const s = resolve(schema);
    let shape: { known: Set<string>; required: string[] };
    if (s.oneOf) {
      const parts = s.oneOf.map((b) => shapeOf(resolve(b)));
      const known = new Set(parts.flatMap((p) => [...p.known]));
      const required = (parts[0]?.required ?? []).filter((k) =>
        parts.every((p) => p.required.includes(k)),
      );
      shape = { known, required };
    } else {
      shape = {
        known: new Set(Object.keys(s.properties ?? {})),
        required: [...(s.required ?? [])],
      };
    }
    shapes.set(schema, shape);
    return shape;
  };

  const visit = (
    schema: JsonSchema,
    value: unknown,
    path: DocPath,
    label: string,
    out: Report,
  ): void => {
    const s = resolve(schema);

    if (s.oneOf) {
      const branches = s.oneOf.map(resolve);
      const discriminated = branches.every((b) => b.properties?.type?.const !== undefined);
      if (discriminated) {
        visitState(branches, value, path, out);
        return;
      }
      const fitting = branches.filter((b) => typeMatches(b, value));
      const candidates = fitting.length > 0 ? fitting : branches;
      // Choose by the value's own keys (shallow, so validation stays linear in the document).
      let best = candidates[0];
      if (candidates.length > 1 && isRecord(value)) {
        let bestScore = Number.NEGATIVE_INFINITY;
        const keys = Object.keys(value);
        for (const branch of candidates) {
          const shape = shapeOf(branch);
          const score =
            keys.filter((k) => shape.known.has(k)).length -
            shape.required.filter((k) => !Object.hasOwn(value, k)).length;
          if (score > bestScore) {
            best = branch;
            bestScore = score;
          }
        }
      }
      if (best) visit(best, value, path, label, out);
      return;
    }

    if (s.const !== undefined && value !== s.const) {
      const key = String(path[path.length - 1] ?? label);
      out(CDL_CODES.INVALID_VALUE, path, `\`${key}\` can only be ${JSON.stringify(s.const)}`);
      return;
    }
    if (s.enum && !s.enum.includes(value as string)) {
      const shown = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
      const hint = typeof value === "string" ? suggest(value, s.enum.map(String)) : undefined;
      out(
        CDL_CODES.INVALID_VALUE,
        path,
        `${shown} is not one of ${s.enum.join(", ")}${hint ? `; did you mean '${hint}'?` : ""}`,
        hint === undefined ? {} : { suggestion: hint },
      );
      return;
    }
    if (s.type !== undefined && !typeMatches(s, value)) {
      out(CDL_CODES.TYPE, path, `expected ${describeTypes(s.type)}, got ${describeValue(value)}`);
      return;
    }

    const valuesSchema =
      typeof s.additionalProperties === "object" ? s.additionalProperties : undefined;
    if (isRecord(value) && (s.properties || s.required || valuesSchema)) {
      const props = s.properties ?? {};
      for (const key of s.required ?? []) {
        if (!Object.hasOwn(value, key)) {
          out(CDL_CODES.REQUIRED, path, `${label} needs \`${key}\``);
        }
      }
      for (const [key, child] of Object.entries(value)) {
        const childSchema = Object.hasOwn(props, key) ? props[key] : undefined;
        if (childSchema) {
          visit(childSchema, child, [...path, key], key, out);
        } else if (valuesSchema) {
          visit(valuesSchema, child, [...path, key], key, out);
        } else if (s.additionalProperties === false) {
          const hint = suggest(key, Object.keys(props));
          out(
            CDL_CODES.UNKNOWN_KEY,
            [...path, key],
            `unknown key \`${key}\` in ${label}${hint ? `; did you mean \`${hint}\`?` : ""}`,
            hint === undefined ? { part: "key" } : { part: "key", suggestion: hint },
          );
        }
      }
    }

    if (Array.isArray(value)) {
      if (s.minItems !== undefined && value.length < s.minItems) {
        out(
          CDL_CODES.INVALID_VALUE,
          path,
          `\`${String(path[path.length - 1] ?? label)}\` needs at least ${s.minItems} item(s)`,
        );
      }
      if (s.items) {
        const items = s.items;
        value.forEach((item, index) => {
          visit(items, item, [...path, index], `${label} item`, out);
        });
      }
    }

    if (typeof value === "number") {
      if (s.minimum !== undefined && value < s.minimum) {
        out(CDL_CODES.INVALID_VALUE, path, `must be at least ${s.minimum}, got ${value}`);
      }
      if (s.maximum !== undefined && value > s.maximum) {
        out(CDL_CODES.INVALID_VALUE, path, `must be at most ${s.maximum}, got ${value}`);
      }
    }

    if (typeof value === "string" && s.maxLength !== undefined && value.length > s.maxLength) {
      out(
        CDL_CODES.INVALID_VALUE,
        path,
        `${String(path[path.length - 1] ?? label)} is ${value.length} characters; at most ${s.maxLength}`,
      );
      return;
    }
    if (s.format) checkFormat(s.format, value, path, out);
    // Durations and resources report their own, clearer message than a pattern mismatch.
    const ownMessage = s.format === "duration" || s.format === "activity-urn";
    if (
      typeof value === "string" &&
      s.pattern &&
      !ownMessage &&
      !new RegExp(s.pattern).test(value)
    ) {
      out(
        CDL_CODES.INVALID_VALUE,
        path,
        `'${value}' is not a valid ${String(path[path.length - 1] ?? label)} (expected /${s.pattern}/)`,
      );
    }
  };

  const visitState = (
    branches: readonly JsonSchema[],
    value: unknown,
    path: DocPath,
    out: Report,
  ): void => {
    if (!isRecord(value)) {
      out(
        CDL_CODES.TYPE,
        path,
        `expected a state (a mapping with \`name\` and \`type\`), got ${describeValue(value)}`,
      );
      return;
    }
    const types = branches.map((b) => String(b.properties?.type?.const));
    const type = value.type;
    const name = typeof value.name === "string" ? `state '${value.name}'` : "this state";
    if (type === undefined) {
      out(CDL_CODES.REQUIRED, path, `${name} needs \`type\`: one of ${types.join(", ")}`);
      return;
    }
    const branch = branches.find((b) => b.properties?.type?.const === type);
    if (!branch) {
      const hint = typeof type === "string" ? suggest(type, types) : undefined;
      out(
        CDL_CODES.UNKNOWN_STATE_TYPE,
        [...path, "type"],
        `unknown state type ${JSON.stringify(type)}${hint ? `; did you mean '${hint}'?` : `; expected one of ${types.join(", ")}`}`,
        hint === undefined ? {} : { suggestion: hint },
      );
      return;
    }
    visit(branch, value, path, `a ${String(type)} state`, out);
  };

  const checkFormat = (
    format: NonNullable<JsonSchema["format"]>,
    value: unknown,
    path: DocPath,
    out: Report,
  ): void => {
    switch (format) {
      case "duration":
        if (typeof value === "string" && parseDuration(value) === undefined) {
          out(
            CDL_CODES.DURATION,
            path,
            `'${value}' is not a duration; write e.g. 500ms, 10s, 5m, 1h, 1d or 1h30m`,
          );
        }
        return;
      case "result-path":
        if (typeof value === "string") {
          try {
            parsePath(value);
          } catch (error) {
            if (!(error instanceof ExpressionError)) throw error;
            out(
              CDL_CODES.RESULT_PATH,
              path,
              `'${value}' is not a result path: ${error.reason}; write e.g. $.result or $.a.b`,
            );
          }
        }
        return;
      case "activity-urn":
        checkResource(value, path, out);
        return;
      case "state-name":
        return;
      case "condition":
        if (typeof value === "string" && !value.includes("{{")) {
          out(
            CDL_CODES.EXPRESSION,
            path,
            `a condition is a {{ }} expression, e.g. "{{ $.valid == false }}"`,
          );
          return;
        }
        checkTemplates(doc, value, path, out);
        if (typeof value === "string" && !isWholeTemplate(value)) {
          out(
            CDL_CODES.EXPRESSION,
            path,
            "a condition is one {{ }} expression with nothing around it (text around it would make a string, always true)",
          );
        }
        return;
      case "template":
        checkTemplates(doc, value, path, out);
        return;
      default: {
        const unreachable: never = format;
        throw new Error(`CDL schema: unknown format ${String(unreachable)}`);
      }
    }
  };

  visit(root, doc.value, [], options.rootLabel, report);
}

const RESOURCE_PREFIX = "urn:cascade:activity:";
/**
 * An AWS region code (`us-east-1`, `eu-west-2`, `us-gov-west-1`). A pool may be named
 * so (the seed's `@us-east` is a pool's name), but a full region code suggests the
 * author expects that region, which Cascade does not deploy to: a warning says so.
 */
const AWS_REGION_CODE = /^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;

function checkResource(value: unknown, path: DocPath, out: Report): void {
  if (typeof value !== "string") return;
  if (!value.startsWith(RESOURCE_PREFIX)) {
    out(
      CDL_CODES.RESOURCE,
      path,
      `'${value}' is not an activity resource; write urn:cascade:activity:<name>[@<pool>]`,
    );
    return;
  }
  const rest = value.slice(RESOURCE_PREFIX.length);
  const [name = "", pool, ...extra] = rest.split("@");
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    out(
      CDL_CODES.RESOURCE,
      path,
      `'${name}' is not an activity name: use letters, digits and _ (it names an exported function)`,
    );
  } else if (extra.length > 0 || (pool !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(pool))) {
    out(
      CDL_CODES.RESOURCE,
      path,
      `'${rest.slice(name.length + 1)}' is not a worker pool's name: lower-case letters, digits and -, e.g. @payments`,
    );
  } else if (pool !== undefined && AWS_REGION_CODE.test(pool)) {
    out(
      CDL_CODES.POOL_NAMED_LIKE_REGION,
      path,
      `@${pool} names a worker pool (its own queue and function), not the AWS region ${pool}: the pool runs in the app's region; name it for what runs there (e.g. @payments)`,
      { severity: "warning" },
    );
  }
}

/** Parses every `{{ }}` template in a value (recursively), reporting syntax errors at their column. */
export function checkTemplates(
  doc: ParsedDocument,
  value: unknown,
  path: DocPath,
  out: Report,
): void {
  if (typeof value === "string") {
    if (!value.includes("{{")) return;
    try {
      parseTemplate(value);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      const shift = columnShift(doc, path, value);
      out(CDL_CODES.EXPRESSION, path, `${error.reason} in ${JSON.stringify(value)}`, {
        ...(error.suggestion === undefined ? {} : { suggestion: error.suggestion }),
        ...(shift === undefined || error.offset === undefined
          ? {}
          : { offset: shift + error.offset, length: Math.max(1, error.length ?? 1) }),
      });
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkTemplates(doc, item, [...path, index], out);
    });
    return;
  }
  if (isRecord(value)) {
    for (const [key, child] of Object.entries(value))
      checkTemplates(doc, child, [...path, key], out);
  }
}

/**
 * How far into the scalar's source span its text starts, when the text appears
 * there verbatim (plain or quoted without escapes); otherwise undefined and the
 * diagnostic points at the scalar's start.
 */
function columnShift(doc: ParsedDocument, path: DocPath, value: string): number | undefined {
  const span = doc.locate(path);
  const raw = doc.source.text.slice(span.offset, span.offset + span.length + 2);
  const firstLine = value.split("\n")[0] ?? "";
  if (raw.startsWith(firstLine)) return 0;
  if ((raw.startsWith('"') || raw.startsWith("'")) && raw.slice(1).startsWith(firstLine)) return 1;
  return undefined;
}

/** A string that is exactly one `{{ }}` expression (spaces around allowed). */
export function isWholeTemplate(value: unknown): boolean {
  if (typeof value !== "string" || !value.includes("{{")) return false;
  try {
    return parseTemplate(value).kind === "whole";
  } catch {
    return true; // the syntax error is reported where templates are checked
  }
}

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeMatches(schema: JsonSchema, value: unknown): boolean {
  if (schema.type === undefined) return true;
  const types: readonly JsonSchemaType[] =
    typeof schema.type === "string" ? [schema.type] : schema.type;
  return types.some((type) => {
    switch (type) {
      case "object":
        return isRecord(value);
      case "array":
        return Array.isArray(value);
      case "string":
        return typeof value === "string";
      case "number":
        return typeof value === "number" && Number.isFinite(value);
      case "integer":
        return typeof value === "number" && Number.isInteger(value);
      case "boolean":
        return typeof value === "boolean";
      case "null":
        return value === null;
      default: {
        const unreachable: never = type;
        return unreachable;
      }
    }
  });
}

const TYPE_NAMES: Record<JsonSchemaType, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  null: "null",
};

function describeTypes(type: JsonSchemaType | readonly JsonSchemaType[]): string {
  const types: readonly JsonSchemaType[] = typeof type === "string" ? [type] : type;
  return types.map((t) => TYPE_NAMES[t]).join(" or ");
}

/** How a value reads in a message: `a list`, `the number 10`, `'abc'`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (null)";
  if (Array.isArray(value)) return "a list";
  if (isRecord(value)) return "a mapping";
  if (typeof value === "string")
    return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return `the ${typeof value} ${String(value)}`;
}
