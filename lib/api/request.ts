/**
 * Request decoding and validation: the body's text and media type, the query string,
 * and the validators routes use for bodies and query parameters. Every problem is
 * reported at once, with its path (`body.id`, `query.limit`).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { MAX_VALUE_DEPTH } from "../core/expr/limits.ts";
import { HttpError, type Problem } from "./errors.ts";

/** What a route answers: turned into the HTTP API result by the handler. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  /** Time spent waiting for an execution's end (ms): the workflow's, left out of the API's latency. */
  readonly waitedMs?: number;
}

/** One decoded request, as routes see it. */
export interface Context {
  readonly event: APIGatewayProxyEventV2;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** The caller's tenant, from its verified identity (see tenancy.ts). */
  readonly tenant: string;
  /** The body's text ("" when none), already size-checked. */
  readonly text: string;
  /** The media type of the body, lower-cased, without parameters ("" when none). */
  readonly mediaType: string;
}

export const JSON_TYPE = /^application\/(?:[\w.+-]*\+)?json$/i;
export const YAML_TYPE = /^(?:application\/(?:x-)?yaml|text\/(?:x-)?yaml|text\/plain)$/i;

/** Query strings longer than this are refused (API Gateway's own limit is about 10 KB of URL). */
export const MAX_QUERY_CHARS = 8192;

/** What a route declares about the requests it takes. */
export interface RequestRules {
  /** The query parameters it takes (`*`: any, a trigger's input). */
  readonly query: readonly string[];
  /** Accepts a YAML body as well as JSON. */
  readonly yaml?: boolean;
  /** A smaller body limit than the API's, in bytes. */
  readonly maxBodyBytes?: number;
}

/**
 * The body's text, its media type and the query of `event`, checked against the
 * route's rules. @throws HttpError PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, INVALID_QUERY
 */
export function decodeRequest(
  event: APIGatewayProxyEventV2,
  rules: RequestRules,
  maxBodyBytes: number,
): { text: string; mediaType: string; query: Record<string, string> } {
  const limit = Math.min(maxBodyBytes, rules.maxBodyBytes ?? maxBodyBytes);
  const raw = event.body ?? "";
  // Measured before decoding (a character is at least a byte): a huge body costs no decode.
  if ((event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) - 2 : raw.length) > limit)
    throw new HttpError("PAYLOAD_TOO_LARGE", `the request body is over ${limit} bytes, the limit`);
  const text = raw
    ? event.isBase64Encoded
      ? Buffer.from(raw, "base64").toString("utf8")
      : raw
    : "";
  const bytes = Buffer.byteLength(text);
  if (bytes > limit)
    throw new HttpError(
      "PAYLOAD_TOO_LARGE",
      `the request body is ${bytes} bytes; the limit is ${limit} bytes`,
    );
  const contentType = event.headers?.["content-type"] ?? "";
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (
    text !== "" &&
    mediaType !== "" &&
    !JSON_TYPE.test(mediaType) &&
    !(rules.yaml && YAML_TYPE.test(mediaType))
  )
    throw new HttpError(
      "UNSUPPORTED_MEDIA_TYPE",
      `the body must be application/json${rules.yaml ? " (or application/yaml)" : ""}, not ${mediaType.slice(0, 100)}`,
    );

  const rawQuery = event.rawQueryString ?? "";
  if (rawQuery.length > MAX_QUERY_CHARS)
    throw new HttpError(
      "INVALID_QUERY",
      `the query string is ${rawQuery.length} characters; the limit is ${MAX_QUERY_CHARS}`,
    );
  // A null-prototype record: a parameter named __proto__ is just a key.
  const query: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(rawQuery)) query[key] = value;
  if (!rawQuery && event.queryStringParameters)
    for (const [key, value] of Object.entries(event.queryStringParameters))
      if (value !== undefined) query[key] = value;
  const unknown = rules.query.includes("*")
    ? []
    : Object.keys(query).filter((key) => !rules.query.includes(key));
  if (unknown.length > 0)
    throw new HttpError(
      "INVALID_QUERY",
      `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown
        .slice(0, 10)
        .map((key) => key.slice(0, 100))
        .join(", ")}${rules.query.length > 0 ? ` (expected ${rules.query.join(", ")})` : ""}`,
      {
        problems: unknown.slice(0, 100).map((key) => ({
          path: `query.${key.slice(0, 100)}`,
          message: "unknown parameter",
        })),
      },
    );
  return { text, mediaType, query };
}

/**
 * How deeply a body's JSON may nest: the expression language's own bound on values
 * (`MAX_VALUE_DEPTH`), so whatever the API accepts a workflow can read — and no
 * recursive walk of it later (stringify, schema checks) runs out of stack.
 */
export const MAX_BODY_DEPTH = MAX_VALUE_DEPTH;

/** The nesting depth of `value`, counted without recursion, stopping past `limit`. */
function depthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== "object" || node === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The body as JSON, or undefined when empty. @throws HttpError INVALID_JSON, INVALID_BODY */
export function parseJson(ctx: Context): unknown {
  if (ctx.text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(ctx.text) as unknown;
  } catch (error) {
    throw new HttpError(
      "INVALID_JSON",
      `the body is not valid JSON: ${(error as Error).message.slice(0, 200)}`,
    );
  }
  if (depthOver(value, MAX_BODY_DEPTH))
    throw new HttpError("INVALID_BODY", `the body nests deeper than ${MAX_BODY_DEPTH} levels`);
  return value;
}

export type FieldType = "string" | "json" | "number";

/**
 * The body as an object with only the named fields (every problem reported at
 * once). An empty body is `{}`. @throws HttpError INVALID_JSON, INVALID_BODY
 */
export function bodyObject(
  ctx: Context,
  fields: Readonly<Record<string, FieldType>>,
  required: readonly string[] = [],
): Record<string, unknown> {
  const value = parseJson(ctx);
  if (value === undefined) {
    if (required.length === 0) return {};
    throw new HttpError(
      "INVALID_BODY",
      `the body must be a JSON object with ${required.join(", ")}`,
      {
        problems: required.map((name) => ({ path: `body.${name}`, message: "is required" })),
      },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(
      "INVALID_BODY",
      `the body must be a JSON object, not ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}`,
    );
  }
  const record = value as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const [key, field] of Object.entries(record)) {
    const type = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (type === undefined) {
      problems.push({
        path: `body.${key.slice(0, 100)}`,
        message: `unknown field (expected ${Object.keys(fields).join(", ")})`,
      });
    } else if (type !== "json" && typeof field !== type) {
      problems.push({ path: `body.${key}`, message: `must be a ${type}` });
    }
  }
  for (const name of required)
    if (!Object.hasOwn(record, name) || record[name] === undefined)
      problems.push({ path: `body.${name}`, message: "is required" });
  if (problems.length > 0)
    throw new HttpError(
      "INVALID_BODY",
      problems
        .slice(0, 20)
        .map((p) => `${p.path} ${p.message}`)
        .join("; "),
      { problems: problems.slice(0, 100) },
    );
  return record;
}

const quoted = (raw: string): string => (raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);

/** A whole-number query parameter in [min, max]. @throws HttpError INVALID_QUERY */
export function integerParam(
  ctx: Context,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  // Digits only: `0x10`, `1e3` and ` 5` are not what a person means by a whole number.
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be a whole number from ${min} to ${max}, not '${quoted(raw)}'`,
      {
        problems: [
          { path: `query.${name}`, message: `must be a whole number from ${min} to ${max}` },
        ],
      },
    );
  }
  return n;
}

/** An ISO 8601 time or epoch milliseconds. @throws HttpError INVALID_QUERY */
export function timeParam(ctx: Context, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : raw.length <= 64 ? Date.parse(raw) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be an ISO 8601 time or epoch milliseconds, not '${quoted(raw)}'`,
      {
        problems: [
          { path: `query.${name}`, message: "must be an ISO 8601 time or epoch milliseconds" },
        ],
      },
    );
  }
  return n;
}
