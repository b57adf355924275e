/**
 * A lean client for the runtime's hot path. DynamoDB and SQS both speak AWS JSON
 * 1.0: a command is one signed POST of its input, and the answer is its output.
 * This client sends the SDK's own command objects that way, signed by the SDK's
 * SigV4 signer (`@smithy/signature-v4`) with the SDK client's credentials and
 * region, and skips only the SDK's per-call serde and middleware stack — which
 * measured at about three quarters of the CPU of each call (`bench/clients.ts`).
 * That CPU is what Lambda bills and what bounds throughput on one machine.
 *
 * Everything else (table and queue creation, S3, rare calls) keeps the SDK client.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { SignatureV4 } from "@smithy/signature-v4";

/** What the client borrows from an SDK client: its resolved credentials and region. */
export interface SdkClientLike {
  readonly config: {
    credentials: () => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
    }>;
    region: () => Promise<string>;
  };
}

/** A service error, named as the SDK names it (`ConditionalCheckFailedException`, ...). */
export class AwsJsonError extends Error {
  readonly statusCode: number;
  readonly retryable: boolean;
  constructor(name: string, message: string, statusCode: number, retryable: boolean) {
    super(message);
    this.name = name;
    this.statusCode = statusCode;
    this.retryable = retryable;
  }
}

/** Throttling and server-side errors worth another try. */
const RETRYABLE_NAMES = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "RequestThrottled",
  "RequestThrottledException",
]);
/** Network errors worth another try (a kept-alive socket the server closed, mostly). */
const RETRYABLE_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT"]);

/** Tries per call, as the SDK's standard retry mode. */
export const MAX_ATTEMPTS = 3;
/** A call with no answer after this long fails (above SQS's 20 s long poll). */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface AwsJsonClientOptions {
  /** The signing name: `dynamodb`, `sqs` (or `secretsmanager`, `ssm` for cold-start reads). */
  readonly service: "dynamodb" | "sqs" | "secretsmanager" | "ssm";
  /** The `X-Amz-Target` prefix: `DynamoDB_20120810`, `AmazonSQS`, `secretsmanager`, `AmazonSSM`. */
  readonly targetPrefix: string;
  /** The AWS JSON protocol version: DynamoDB and SQS speak 1.0, Secrets Manager and SSM 1.1. Default 1.0. */
  readonly jsonVersion?: "1.0" | "1.1";
  /** Operation names by SDK command class (kept by reference, so minified bundles work). */
  readonly operations: ReadonlyMap<abstract new (...args: never[]) => unknown, string>;
  /** A custom endpoint (the emulators); default `https://<service>.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  /** Sockets kept open. Default 64. */
  readonly maxSockets?: number;
}

/** Called after each call with its operation, input and output: the benchmark counts with it. */
export type CallObserver = (
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
) => void;

/**
 * HMAC keys as KeyObjects, by their bytes: a KeyObject makes `createHmac` about four
 * times cheaper than a raw buffer, and SigV4 signs every request with the same
 * day's signing key. Bounded: keys change daily and per credential.
 */
const HMAC_KEYS = new Map<string, KeyObject>();
const MAX_HMAC_KEYS = 32;

function hmacKey(secret: string | ArrayBuffer | ArrayBufferView): KeyObject {
  const bytes = toBuffer(secret);
  const id = bytes.toString("base64");
  let key = HMAC_KEYS.get(id);
  if (!key) {
    if (HMAC_KEYS.size >= MAX_HMAC_KEYS) HMAC_KEYS.clear();
    key = createSecretKey(bytes);
    HMAC_KEYS.set(id, key);
  }
  return key;
}

/** SHA-256 and HMAC-SHA-256 for the SigV4 signer, from node:crypto. */
export class NodeSha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined ? createHash("sha256") : createHmac("sha256", hmacKey(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
  reset(): void {
    throw new Error("not supported");
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export class AwsJsonClient {
  readonly #sdk: SdkClientLike;
  readonly #options: AwsJsonClientOptions;
  readonly #httpAgent: HttpAgent;
  readonly #httpsAgent: HttpsAgent;
  readonly #observers: CallObserver[] = [];
  #signer: Promise<{ signer: SignatureV4; url: URL }> | undefined;

  constructor(sdk: SdkClientLike, options: AwsJsonClientOptions) {
    this.#sdk = sdk;
    this.#options = options;
    const maxSockets = options.maxSockets ?? 64;
    this.#httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    this.#httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  /** Adds an observer of every call (for counting). */
  observe(observer: CallObserver): void {
    this.#observers.push(observer);
  }

  /**
   * Sends an SDK command object (`new PutItemCommand({...})`) as one signed POST.
   * @throws AwsJsonError named like the SDK's exception, after retrying throttles and resets.
   */
  async send<Output = Record<string, unknown>>(command: {
    readonly input: object;
  }): Promise<Output> {
    const operation = this.#options.operations.get(
      command.constructor as abstract new (
        ...args: never[]
      ) => unknown,
    );
    if (operation === undefined) {
      throw new Error(
        `${this.#options.service}: no JSON operation for ${command.constructor.name}`,
      );
    }
    return this.call<Output>(operation, command.input as Record<string, unknown>);
  }

  /**
   * Calls `operation` with `input` as one signed POST (services without SDK command classes here).
   * @throws AwsJsonError named like the SDK's exception, after retrying throttles and resets.
   */
  async call<Output = Record<string, unknown>>(
    operation: string,
    input: Record<string, unknown>,
  ): Promise<Output> {
    const body = JSON.stringify(input);
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await this.#call(operation, body);
        for (const observe of this.#observers) observe(operation, input, output);
        return output as Output;
      } catch (error) {
        const retryable =
          error instanceof AwsJsonError
            ? error.retryable
            : RETRYABLE_CODES.has((error as NodeJS.ErrnoException).code ?? "");
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * 2 ** attempt));
      }
    }
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  async #setup(): Promise<{ signer: SignatureV4; url: URL }> {
    const region = await this.#sdk.config.region();
    const url = new URL(
      this.#options.endpoint ?? `https://${this.#options.service}.${region}.amazonaws.com/`,
    );
    const signer = new SignatureV4({
      credentials: () => this.#sdk.config.credentials(),
      region,
      service: this.#options.service,
      sha256: NodeSha256,
      uriEscapePath: true,
    });
    return { signer, url };
  }

  async #call(operation: string, body: string): Promise<Record<string, unknown>> {
    this.#signer ??= this.#setup();
    const { signer, url } = await this.#signer;
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === "" ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        "content-type": `application/x-amz-json-${this.#options.jsonVersion ?? "1.0"}`,
        "x-amz-target": `${this.#options.targetPrefix}.${operation}`,
        "content-length": String(Buffer.byteLength(body)),
      },
      body,
    });
    const https = url.protocol === "https:";
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          method: "POST",
          hostname: url.hostname,
          port: url.port === "" ? undefined : Number(url.port),
          path: url.pathname,
          headers: signed.headers,
          agent: https ? this.#httpsAgent : this.#httpAgent,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
            } catch {
              reject(
                new AwsJsonError(
                  "InvalidResponse",
                  `${this.#options.service} ${operation}: HTTP ${status}, not JSON: ${text.slice(0, 200)}`,
                  status,
                  status >= 500,
                ),
              );
              return;
            }
            if (status >= 200 && status < 300) {
              resolve(parsed);
              return;
            }
            const type = String(parsed.__type ?? res.headers["x-amzn-errortype"] ?? "UnknownError");
            const name = type.slice(type.lastIndexOf("#") + 1).split(":")[0] ?? type;
            const message = String(parsed.message ?? parsed.Message ?? `HTTP ${status}`);
            reject(
              new AwsJsonError(name, message, status, status >= 500 || RETRYABLE_NAMES.has(name)),
            );
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })),
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}
