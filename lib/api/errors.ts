/** The API's errors: each a stable `code` and its HTTP status. */

/** Every error code the API answers with, and its status. Clients match on the code. */
export const API_ERRORS = {
  /** The body is not valid JSON. */
  INVALID_JSON: 400,
  /** The body is JSON but not the expected object (wrong types, unknown or missing fields). */
  INVALID_BODY: 400,
  /** A query parameter is unknown or malformed. */
  INVALID_QUERY: 400,
  /** The cursor was not issued by this API for this tenant and these filters. */
  INVALID_CURSOR: 400,
  /** An execution id is malformed (1-128 letters, digits, `_ . : -`, starting with a letter or digit). */
  INVALID_ID: 400,
  /** The tenant name is malformed. */
  INVALID_TENANT: 400,
  /** The input fails the workflow's `input_schema`. */
  INVALID_INPUT: 422,
  /** The request carries no verified identity (an app deployed without an authorizer). */
  UNAUTHENTICATED: 401,
  /** The caller's tenant is not one of the app's tenants. */
  UNKNOWN_TENANT: 403,
  /** The token carries no tenant claim. */
  TENANT_MISSING: 403,
  /** The calling IAM principal is not mapped to a tenant (`auth.principals` in cascade.yaml). */
  UNKNOWN_PRINCIPAL: 403,
  UNKNOWN_APP: 404,
  UNKNOWN_WORKFLOW: 404,
  UNKNOWN_EXECUTION: 404,
  UNKNOWN_ROUTE: 404,
  METHOD_NOT_ALLOWED: 405,
  /** An execution with that id exists with another workflow or input. */
  ID_CONFLICT: 409,
  /** The execution has already ended: it cannot be cancelled or signalled. */
  EXECUTION_ENDED: 409,
  /** Redrive: the execution is still running (only an ended one is redriven). */
  EXECUTION_RUNNING: 409,
  /** Redrive: the workflow has no state of that name (the message suggests the closest). */
  UNKNOWN_STATE: 400,
  /** Redrive: the state is inside a Map that reads its items from an object (`item_reader`); redrive from that Map. */
  STATE_IN_BRANCH: 400,
  /** Redrive: `thread` names no thread holding that state (or the state is root-level). */
  UNKNOWN_THREAD: 400,
  /** Redrive: several threads entered that state (Map items, a loop); `thread` says which. */
  THREAD_REQUIRED: 400,
  /** Redrive: the execution never entered that state, so it has no data to start it from. */
  STATE_NOT_ENTERED: 409,
  /** Redrive: a succeeded execution has no failed state to default to; `from_state` is needed. */
  FROM_STATE_REQUIRED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The local server refused a request from another origin or host (DNS rebinding, cross-site POST). */
  FORBIDDEN_ORIGIN: 403,
  /** A fault on the server's side (details in its log, never in the answer). */
  INTERNAL: 500,
  /** This API has no metrics source (a handler built without one). */
  METRICS_UNAVAILABLE: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** One problem with a request, at a JSON path (`input.customer_id`, `body.wait`). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** An error answer: thrown by routes, turned into `{error: {code, message, problems?}}`. */
export class HttpError extends Error {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly problems: readonly Problem[] | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(
    code: ApiErrorCode,
    message: string,
    options: { problems?: readonly Problem[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.code = code;
    this.status = API_ERRORS[code];
    this.problems = options.problems;
    this.headers = options.headers;
  }
}

/**
 * Codes that the store and the runtime report and the API answers with as they are.
 * Errors are matched on their `code`, never on their class name: prototypes and
 * class names are no contract between layers.
 */
const PASSED_THROUGH: ReadonlySet<string> = new Set<ApiErrorCode>([
  "UNKNOWN_TENANT",
  "UNKNOWN_WORKFLOW",
  "INVALID_ID",
  "ID_CONFLICT",
]);

/** The answer for a coded error from below the API, or undefined for a fault (500). */
export function fromCoded(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && PASSED_THROUGH.has(code))
    return new HttpError(code as ApiErrorCode, error.message);
  return undefined;
}
