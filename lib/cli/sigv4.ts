/**
 * SigV4 signing of the CLI's requests, for an API deployed with `auth: iam`. The
 * credentials come from the AWS SDK's default provider chain (environment, shared
 * config and credentials files with `--profile`, SSO, process, container and instance
 * roles), resolved through an SDK client's config, as every SDK client does.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../adapters/aws/json-client.ts";

/** A request to sign: the headers to send come back. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Signs one request. */
export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

/** The service name API Gateway verifies SigV4 signatures under. */
export const EXECUTE_API_SERVICE = "execute-api";

/** `<api>.execute-api.<region>.amazonaws.com` → its region. */
export function regionOfEndpoint(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
}

export interface SignerOptions {
  /** A profile of ~/.aws/config (`--profile`); default: `AWS_PROFILE`, else the default chain. */
  readonly profile?: string;
  /** `--region`; default: the endpoint's own region, else the profile's or `AWS_REGION`. */
  readonly region?: string;
  /** The endpoint the requests go to (its host may name the region). */
  readonly endpoint: string;
  /** Explicit credentials (tests); default: the SDK's provider chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * A signer for `execute-api` requests.
 * @throws when no region can be found; credential errors surface on the first request.
 */
export async function createSigner(options: SignerOptions): Promise<RequestSigner> {
  const sdk = new DynamoDBClient({
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const region =
    options.region ??
    regionOfEndpoint(new URL(options.endpoint)) ??
    (await sdk.config.region().catch(() => undefined));
  if (!region)
    throw new Error(
      "no AWS region for signing: pass --region (or set AWS_REGION, or a region in the profile)",
    );
  const signer = new SignatureV4({
    credentials: () => sdk.config.credentials(),
    region,
    service: EXECUTE_API_SERVICE,
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  return async ({ method, url, headers, body }) => {
    const query: Record<string, string> = {};
    for (const [key, value] of url.searchParams) query[key] = value;
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      ...(body === undefined ? {} : { body }),
    });
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // fetch sets Host itself from the URL.
      if (name.toLowerCase() !== "host") out[name] = String(value);
    }
    return out;
  };
}
