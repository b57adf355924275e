/** The HTTP API, shared by the `api` Lambda (functions/api.ts) and the local server. */

export { API_ERRORS, type ApiErrorCode, HttpError, type Problem } from "./errors.ts";
export {
  type ApiDeps,
  type ApiHandler,
  createApiHandler,
  DEFAULT_TENANT,
  HISTORY_LIMIT,
  LIST_LIMIT,
  MAX_REQUEST_BODY_BYTES,
  MAX_WAIT_SECONDS,
  type RouteSpec,
  TENANT_HEADER,
} from "./handler.ts";
