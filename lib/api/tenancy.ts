/**
 * Tenancy: the one place a request's identity becomes a tenant (DESIGN.md invariant 9).
 *
 * - On AWS the tenant comes only from a verified identity: the JWT authorizer's
 *   claim (`auth.tenant_claim`), or with `auth: iam` the calling IAM principal that API
 *   Gateway verified (SigV4), mapped to a tenant by `auth.principals` in cascade.yaml.
 *   An app deployed with `auth: { type: none, public: true }` serves its one tenant.
 * - The `X-Cascade-Tenant` header is honoured by the local stack only (`cascade dev`).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { AppConfig } from "../app/config.ts";
import { HttpError } from "./errors.ts";

/** The tenant header of the local stack. Ignored on AWS. */
export const TENANT_HEADER = "x-cascade-tenant";
/** The tenant when none is named and the app lists no tenants. */
export const DEFAULT_TENANT = "default";

const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** What API Gateway puts in the request context once it verified the caller. */
interface VerifiedContext {
  readonly accountId?: string;
  readonly authorizer?: {
    readonly jwt?: { readonly claims?: Record<string, unknown> };
    readonly iam?: { readonly userArn?: unknown; readonly accountId?: unknown };
  };
}

/** How identities map to tenants. */
export interface TenancyOptions {
  /** cascade.yaml; without it: any well-formed tenant locally, none on AWS. */
  readonly config?: AppConfig | undefined;
  /** True only for the local stack: the header names the tenant and nothing is verified. */
  readonly local: boolean;
}

/**
 * The IAM identity of an ARN as `auth.principals` names it: an assumed role's session
 * ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) is the role
 * (`arn:aws:iam::<account>:role/<role>`); a user's ARN is itself.
 */
export function principalOf(arn: string): string | undefined {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  const plain = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/(?:[^/]+\/)*([^/]+)$/.exec(arn);
  if (plain) return `arn:${plain[1]}:iam::${plain[2]}:${plain[3]}/${plain[4]}`;
  return undefined;
}

/** `role/<name>` (a role of the API's own account) or a full ARN, against the caller's principal. */
function principalMatches(
  entry: string,
  principal: string,
  apiAccount: string | undefined,
): boolean {
  if (entry.startsWith("arn:")) return principalOf(entry) === principal;
  const [, kind, name] = /^(role|user)\/(?:[^/]+\/)*([^/]+)$/.exec(entry) ?? [];
  if (!kind || !name || apiAccount === undefined) return false;
  return principal.replace(/^arn:[^:]+:/, "") === `iam::${apiAccount}:${kind}/${name}`;
}

/**
 * Builds the function that names the tenant of a request.
 * @throws HttpError UNAUTHENTICATED, TENANT_MISSING, UNKNOWN_PRINCIPAL, INVALID_TENANT, UNKNOWN_TENANT
 */
export function createTenancy(options: TenancyOptions): (event: APIGatewayProxyEventV2) => string {
  const { config, local } = options;
  const names = config?.tenants.names ?? [];
  const known = new Set(names);
  const auth = config?.auth;

  const checked = (tenant: string): string => {
    if (!TENANT_PATTERN.test(tenant))
      throw new HttpError(
        "INVALID_TENANT",
        `'${tenant.slice(0, 80)}' is not a tenant name: 1-64 letters, digits, _ -`,
      );
    if (config && !known.has(tenant))
      throw new HttpError("UNKNOWN_TENANT", `tenant '${tenant}' is not one of this app's tenants`);
    return tenant;
  };

  if (local)
    return (event) =>
      checked(
        event.headers?.[TENANT_HEADER] ??
          (known.has(DEFAULT_TENANT) || !config ? DEFAULT_TENANT : (names[0] ?? DEFAULT_TENANT)),
      );

  return (event) => {
    const context = (event.requestContext ?? {}) as VerifiedContext;
    switch (auth?.type) {
      case "jwt": {
        const claims = context.authorizer?.jwt?.claims;
        if (!claims)
          throw new HttpError("TENANT_MISSING", "the request carries no verified token claims");
        const claim = Object.hasOwn(claims, auth.tenantClaim)
          ? claims[auth.tenantClaim]
          : undefined;
        if (typeof claim !== "string" && typeof claim !== "number")
          throw new HttpError(
            "TENANT_MISSING",
            `the token has no '${auth.tenantClaim}' claim naming the tenant`,
          );
        return checked(String(claim));
      }
      case "iam": {
        const arn = context.authorizer?.iam?.userArn;
        const principal = typeof arn === "string" ? principalOf(arn) : undefined;
        if (principal === undefined)
          throw new HttpError(
            "UNAUTHENTICATED",
            "the request carries no verified IAM principal (sign it with SigV4)",
          );
        const entries = auth.principals ?? [];
        if (entries.length === 0 && names.length === 1 && names[0] !== undefined)
          return checked(names[0]);
        const entry = entries.find((e) =>
          principalMatches(e.principal, principal, context.accountId),
        );
        if (!entry)
          throw new HttpError(
            "UNKNOWN_PRINCIPAL",
            `${principal} is not mapped to a tenant (auth.principals in cascade.yaml)`,
          );
        return checked(entry.tenant);
      }
      case "none":
        if (auth.public && names.length === 1 && names[0] !== undefined) return checked(names[0]);
        throw new HttpError(
          "UNAUTHENTICATED",
          "this app was deployed without an authorizer; set auth in cascade.yaml (jwt or iam)",
        );
      default:
        throw new HttpError("UNAUTHENTICATED", "this API has no cascade.yaml naming its auth");
    }
  };
}
