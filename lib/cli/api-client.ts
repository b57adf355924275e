/**
 * The CLI's side of the HTTP API: global fetch against `--endpoint`, errors turned
 * into exit codes. The same client works against `cascade dev` and API Gateway.
 */
import { join } from "node:path";
import { DATA_DIR_NAME, readDevState } from "../local/dev-state.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import type { RequestSigner } from "./sigv4.ts";

/** Where `cascade dev` listens unless told otherwise. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:4000";

/** The API answered with an error: its status, stable `code`, message and any problems. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, body: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }

  /** The exit code for this answer. */
  get exitCode(): ExitCode {
    if (this.status === 404) return EXIT.NOT_FOUND;
    if (this.status === 409) return EXIT.CONFLICT;
    if (this.status >= 500) return EXIT.UNAVAILABLE;
    return EXIT.INVALID;
  }
}

/** The endpoint could not be reached at all. */
export class ApiUnavailableError extends Error {
  readonly endpoint: string;
  constructor(endpoint: string, options?: ErrorOptions) {
    super(
      `cannot reach the Cascade API at ${endpoint}: is \`cascade dev\` running? (or pass --endpoint)`,
      options,
    );
    this.name = "ApiUnavailableError";
    this.endpoint = endpoint;
  }
}

/**
 * The endpoint to talk to: `--endpoint`, else `CASCADE_ENDPOINT`, else the URL a
 * running `cascade dev` wrote to `./.cascade/dev.json`, else http://127.0.0.1:4000.
 */
export function resolveEndpoint(
  flag: string | undefined,
  io: CliIo,
): { url: string; app?: string } {
  if (flag) return { url: flag.replace(/\/+$/, "") };
  const fromEnv = io.env?.CASCADE_ENDPOINT;
  if (fromEnv) return { url: fromEnv.replace(/\/+$/, "") };
  const state = readDevState(join(io.cwd, DATA_DIR_NAME));
  if (state) return { url: state.url, app: state.app };
  return { url: DEFAULT_ENDPOINT };
}

export interface ApiClientOptions {
  readonly endpoint: string;
  /** Sent as `X-Cascade-Tenant`, which only the local stack reads: on AWS the verified identity names the tenant. */
  readonly tenant?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Signs each request (SigV4, for an API behind `auth: iam`); see sigv4.ts. */
  readonly sign?: RequestSigner;
  /** Per request, in ms. Default 60,000. */
  readonly timeoutMs?: number;
}

/** A thin JSON client. */
export class ApiClient {
  readonly endpoint: string;
  readonly #options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.#options = options;
  }

  /**
   * Sends a request; returns the status and the parsed body of a 2xx answer.
   * @param options.signal cancels the request (it then throws the signal's reason).
   * @throws ApiError for 4xx and 5xx answers, ApiUnavailableError when nothing answers.
   */
  async request<T = Record<string, unknown>>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: T }> {
    let headers: Record<string, string> = { accept: "application/json" };
    // Every write says it is JSON: the local server takes no other (no cross-site forms).
    const sent = body === undefined ? (method === "GET" ? undefined : "{}") : JSON.stringify(body);
    if (sent !== undefined) headers["content-type"] = "application/json";
    if (this.#options.tenant) headers["x-cascade-tenant"] = this.#options.tenant;
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    const url = `${this.endpoint}${path}`;
    if (this.#options.sign)
      headers = await this.#options.sign({
        method,
        url: new URL(url),
        headers,
        ...(sent === undefined ? {} : { body: sent }),
      });
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(sent === undefined ? {} : { body: sent }),
        signal: AbortSignal.any([
          AbortSignal.timeout(this.#options.timeoutMs ?? 60_000),
          ...(options.signal ? [options.signal] : []),
        ]),
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ApiUnavailableError(this.endpoint, { cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new ApiUnavailableError(this.endpoint, { cause: error });
    }
    let parsed: unknown = text;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page): keep the text.
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error;
      const record = parsed as { code?: string; message?: string };
      const code = error?.code ?? record.code ?? `HTTP_${response.status}`;
      const message =
        error?.message ??
        record.message ??
        (typeof parsed === "string" ? parsed : response.statusText);
      throw new ApiError(response.status, code, message, parsed);
    }
    return { status: response.status, body: parsed as T };
  }
}

/** A path segment, escaped. */
export const seg = (value: string): string => encodeURIComponent(value);

/** The only app an endpoint serves. @throws ApiError APP_REQUIRED when there is not exactly one. */
export async function defaultApp(client: ApiClient): Promise<string> {
  const { body } = await client.request<{ apps?: ({ name: string } | string)[] }>(
    "GET",
    "/v1/apps",
  );
  const apps = (body.apps ?? []).map((a) => (typeof a === "string" ? a : a.name));
  if (apps.length === 1 && apps[0] !== undefined) return apps[0];
  throw new ApiError(
    400,
    "APP_REQUIRED",
    `pass --app: ${client.endpoint} serves ${apps.length === 0 ? "no app" : apps.join(", ")}`,
    body,
  );
}
