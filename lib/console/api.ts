/** The console's one way to the server: the public HTTP API under `/v1`, on the page's own origin. */

/** A problem the API reported, by path. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** An error answer of the API (`{error: {code, message, problems?}}`), or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: readonly Problem[];
  constructor(status: number, code: string, message: string, problems: readonly Problem[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

const TENANT_KEY = "cascade.tenant";
let tenant: string | undefined = globalThis.sessionStorage?.getItem(TENANT_KEY) ?? undefined;

/** The tenant the console acts as on the local stack (`X-Cascade-Tenant`); undefined: the API's default. */
export function currentTenant(): string | undefined {
  return tenant;
}

/**
 * Acts as `name` from now on (kept for this tab). Only `cascade dev` honours it: on AWS
 * the tenant is the caller's identity's, and `cascade console` never forwards it.
 */
export function chooseTenant(name: string | undefined): void {
  tenant = name;
  if (name === undefined) globalThis.sessionStorage?.removeItem(TENANT_KEY);
  else globalThis.sessionStorage?.setItem(TENANT_KEY, name);
}

const tenantHeader = (): Record<string, string> =>
  tenant === undefined ? {} : { "x-cascade-tenant": tenant };

/**
 * Calls the API: GET without `body`, POST with it (as JSON).
 * @throws ApiError with the answer's code, or `NETWORK` when the server cannot be reached.
 */
export async function api<T>(path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(
      path,
      body === undefined
        ? { headers: { accept: "application/json", ...tenantHeader() } }
        : {
            method: "POST",
            headers: {
              "content-type": "application/json",
              accept: "application/json",
              ...tenantHeader(),
            },
            body: JSON.stringify(body),
          },
    );
  } catch (error) {
    throw new ApiError(0, "NETWORK", `the API cannot be reached: ${String(error)}`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(
      response.status,
      "INVALID_ANSWER",
      `the API answered ${response.status} with no JSON`,
    );
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; problems?: Problem[] } })
      .error;
    throw new ApiError(
      response.status,
      error?.code ?? `HTTP_${response.status}`,
      error?.message ?? `the API answered ${response.status}`,
      error?.problems ?? [],
    );
  }
  return parsed as T;
}

/** `/v1/apps/{app}` + `rest`, with each `{}` of rest already encoded by the caller. */
export const appPath = (app: string, rest = ""): string =>
  `/v1/apps/${encodeURIComponent(app)}${rest}`;

/** A query string of the defined values (`?a=1&b=2`, or ""). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}
