/**
 * No public API by accident (finding S1 of the reliability review; DESIGN.md invariant
 * 9): an app is deployed only with an authorizer that verifies who calls, or with an
 * explicit `auth: { type: none, public: true }` and one tenant. `cascade synth` and
 * `cascade deploy` check this before the CDK starts, and the construct before it builds
 * anything, so the answer comes first, not after minutes of bundling (or a bundling
 * failure that hides it).
 */
import type { AppConfig } from "../app/config.ts";

/** The code of a refused deployment's auth, as `cascade synth` prints it. */
export const OPEN_API_CODE = "INFRA_OPEN_API";

/** Raised by the construct for an app whose auth would deploy an open (or unverifiable) API. */
export class OpenApiError extends Error {
  readonly code = OPEN_API_CODE;
  constructor(message: string) {
    super(message);
    this.name = "OpenApiError";
  }
}

/** Why `config` may not be deployed as it stands, or undefined when it may. */
export function deployAuthProblem(config: AppConfig): string | undefined {
  const { auth } = config;
  const tenants = config.tenants.names.length;
  switch (auth.type) {
    case "none":
      if (auth.public !== true)
        return (
          `${config.name}: cascade.yaml sets no auth, so this app would deploy an HTTP API anyone can call. ` +
          "Set auth.type to iam (SigV4, with auth.principals naming each tenant's role) or jwt (issuer, audience, tenant_claim); " +
          "or, for a single-tenant demo, opt in with `auth: { type: none, public: true }`."
        );
      if (tenants !== 1)
        return `${config.name}: a public API (auth: { type: none, public: true }) has no verified identity, so it serves exactly one tenant; this app lists ${tenants}.`;
      return undefined;
    case "jwt":
      if (auth.issuer === undefined || (auth.audience ?? []).length === 0)
        return `${config.name}: auth.type jwt needs issuer and audience (your identity provider's); without them API Gateway would verify no token.`;
      return undefined;
    case "iam":
      // SigV4 on every route; a caller outside auth.principals gets 403 UNKNOWN_PRINCIPAL.
      return undefined;
    default: {
      const never: never = auth.type;
      return `${config.name}: unknown auth.type '${String(never)}'`;
    }
  }
}

/**
 * @throws OpenApiError when `config`'s auth would deploy an API anyone can call, or one
 * whose callers' tenants nothing verifies (see {@link deployAuthProblem}).
 */
export function assertDeployableAuth(config: AppConfig): void {
  const problem = deployAuthProblem(config);
  if (problem !== undefined) throw new OpenApiError(problem);
}
