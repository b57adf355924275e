/**
 * Reading a request: its tenant, its JSON body and its query, each validated
 * once, reporting every problem at once, refusing unknown fields.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { AppConfig } from "../app/config.ts";
import type { JsonValue } from "../core/expr/index.ts";
import { HttpError, type Problem } from "./errors.ts";

/** The header that names the tenant when the API has no authorizer (auth type `none` or `iam`). */
export const TENANT_HEADER = "x-cascade-tenant";
/** The tenant of a request that names none. */
export const DEFAULT_TENANT = "default";
/** Tenant names: they are part of every key, so `#` and the like are refused. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Event names and event ids of `POST .../events`. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const headerOf = (event: APIGatewayProxyEventV2, name: string): string | undefined => {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
};

/** A header's value (case-insensitive name), as API Gateway passes it. */
export const header = headerOf;

/**
 * The caller's tenant. With a JWT authorizer, the claim `auth.tenantClaim` of the
 * validated token (a caller cannot choose another); otherwise the `X-Cascade-Tenant`
 * header, default `default`.
 * @throws HttpError TENANT_MISSING (a JWT without the claim), INVALID_TENANT, UNKNOWN_TENANT
 * (not in `tenants.names` of cascade.yaml).
 */
export function resolveTenant(
  event: APIGatewayProxyEventV2,
  config: AppConfig | undefined,
): string {
  const claimName = config?.auth.tenantClaim ?? "tenant";
  const authorizer = (
    event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }
  ).authorizer;
  const claims = authorizer?.jwt?.claims;
  let tenant: string;
  if (claims !== undefined || config?.auth.type === "jwt") {
    const claim = claims?.[claimName];
    if (typeof claim !== "string" && typeof claim !== "number") {
      throw new HttpError("TENANT_MISSING", `the token carries no '${claimName}' claim`);
    }
    tenant = String(claim);
  } else {
    tenant = headerOf(event, TENANT_HEADER) ?? DEFAULT_TENANT;
  }
  if (!TENANT_PATTERN.test(tenant)) {
    throw new HttpError(
      "INVALID_TENANT",
      `'${tenant.slice(0, 80)}' is not a tenant name: 1-64 letters, digits, _ . -, starting with a letter or digit`,
    );
  }
  if (config && !config.tenants.names.includes(tenant)) {
    throw new HttpError("UNKNOWN_TENANT", `tenant '${tenant}' is not one of this app's tenants`);
  }
  return tenant;
}

const isJsonMediaType = (type: string): boolean =>
  type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));

/** The media type of the body, lower-cased, without parameters; undefined when not given. */
export function mediaType(event: APIGatewayProxyEventV2): string | undefined {
  const value = headerOf(event, "content-type");
  if (value === undefined || value.trim() === "") return undefined;
  return (value.split(";")[0] ?? "").trim().toLowerCase();
}

/** The body as text (decoded when API Gateway base64-encoded it); "" when none. */
export function bodyText(event: APIGatewayProxyEventV2, maxBytes: number): string {
  if (event.body === undefined || event.body === null || event.body === "") return "";
  const bytes = event.isBase64Encoded
    ? Buffer.from(event.body, "base64")
    : Buffer.from(event.body, "utf8");
  if (bytes.length > maxBytes) {
    throw new HttpError(
      "PAYLOAD_TOO_LARGE",
      `the request body is ${bytes.length} bytes; the limit is ${maxBytes}`,
    );
  }
  return event.isBase64Encoded ? bytes.toString("utf8") : event.body;
}

/**
 * The JSON body: an object, or `{}` when there is no body.
 * @throws HttpError UNSUPPORTED_MEDIA_TYPE (not JSON), PAYLOAD_TOO_LARGE, INVALID_JSON,
 * INVALID_BODY (JSON that is not an object).
 */
export function jsonBody(
  event: APIGatewayProxyEventV2,
  maxBytes: number,
): Record<string, JsonValue> {
  const type = mediaType(event);
  const text = bodyText(event, maxBytes);
  if (text === "") return {};
  if (type !== undefined && !isJsonMediaType(type)) {
    throw new HttpError("UNSUPPORTED_MEDIA_TYPE", `the body is ${type}; send application/json`);
  }
  const value = parseJson(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(
      "INVALID_BODY",
      `the body must be a JSON object, not ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  return value as Record<string, JsonValue>;
}

/** Parses JSON text. @throws HttpError INVALID_JSON, saying where. */
export function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new HttpError("INVALID_JSON", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** One field of an object body. */
export interface FieldSpec {
  readonly type: "string" | "any";
  readonly required?: boolean;
  readonly pattern?: RegExp;
  /** Said in the message when the pattern does not match. */
  readonly patternHint?: string;
  readonly maxLength?: number;
}

/**
 * Checks an object against its fields, all at once: unknown fields, missing
 * required ones, wrong types. @throws HttpError `code` (default INVALID_BODY) with every problem.
 */
export function checkFields(
  body: Record<string, JsonValue>,
  fields: Readonly<Record<string, FieldSpec>>,
  where = "body",
): void {
  const problems: Problem[] = [];
  for (const key of Object.keys(body)) {
    if (!(key in fields))
      problems.push({
        path: `${where}.${key}`,
        message: `unknown field; expected ${Object.keys(fields).join(", ")}`,
      });
  }
  for (const [key, spec] of Object.entries(fields)) {
    const value = body[key];
    if (value === undefined) {
      if (spec.required) problems.push({ path: `${where}.${key}`, message: "is required" });
      continue;
    }
    if (spec.type === "string") {
      if (typeof value !== "string") {
        problems.push({ path: `${where}.${key}`, message: "must be a string" });
      } else if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        problems.push({
          path: `${where}.${key}`,
          message: `is ${value.length} characters; at most ${spec.maxLength}`,
        });
      } else if (spec.pattern && !spec.pattern.test(value)) {
        problems.push({
          path: `${where}.${key}`,
          message: spec.patternHint ?? `must match ${spec.pattern.source}`,
        });
      }
    }
  }
  if (problems.length > 0) {
    throw new HttpError(
      "INVALID_BODY",
      problems.length === 1 && problems[0]
        ? `${problems[0].path} ${problems[0].message}`
        : `the body has ${problems.length} problems`,
      { problems },
    );
  }
}

/** The query parameters, checked against the names a route accepts. @throws HttpError INVALID_QUERY */
export function queryOf(
  event: APIGatewayProxyEventV2,
  allowed: readonly string[],
): Readonly<Record<string, string>> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {}))
    if (value !== undefined) query[key] = value;
  const unknown = Object.keys(query).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HttpError(
      "INVALID_QUERY",
      `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; ${allowed.length === 0 ? "this route takes none" : `expected ${allowed.join(", ")}`}`,
      { problems: unknown.map((k) => ({ path: `query.${k}`, message: "unknown parameter" })) },
    );
  }
  return query;
}

/** An integer query parameter within bounds. @throws HttpError INVALID_QUERY */
export function intParam(
  query: Readonly<Record<string, string>>,
  name: string,
  bounds: { min: number; max: number; fallback: number },
): number {
  const raw = query[name];
  if (raw === undefined) return bounds.fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be an integer from ${bounds.min} to ${bounds.max}, not '${raw}'`,
      {
        problems: [
          { path: `query.${name}`, message: `an integer from ${bounds.min} to ${bounds.max}` },
        ],
      },
    );
  }
  return value;
}

/** A time query parameter: ISO 8601 or epoch milliseconds. @throws HttpError INVALID_QUERY */
export function timeParam(
  query: Readonly<Record<string, string>>,
  name: string,
): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value)) {
    throw new HttpError(
      "INVALID_QUERY",
      `${name} must be an ISO 8601 time or epoch milliseconds, not '${raw}'`,
      { problems: [{ path: `query.${name}`, message: "an ISO 8601 time or epoch milliseconds" }] },
    );
  }
  return value;
}
