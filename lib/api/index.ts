/** The HTTP API, shared by the `api` Lambda (functions/api.ts) and the local server. */

export {
  type ApiDeps,
  HISTORY_LIMIT,
  LIST_LIMIT,
  MAX_REQUEST_BODY_BYTES,
  MAX_VALIDATE_BODY_BYTES,
  MAX_WAIT_SECONDS,
} from "./deps.ts";
export { API_ERRORS, type ApiErrorCode, HttpError, type Problem } from "./errors.ts";
export { type ApiHandler, createApiHandler } from "./handler.ts";
export type { RouteSpec } from "./router.ts";
export { DEFAULT_TENANT, principalOf, TENANT_HEADER } from "./tenancy.ts";
