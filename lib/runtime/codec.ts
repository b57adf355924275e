/**
 * Large values move to the payload store: messages and items carry references,
 * never large data, so DynamoDB's 400 KB item limit and SQS's message limit are
 * never reached by user data (DESIGN.md invariant 6).
 */
import { createHash } from "node:crypto";
import type { JsonValue } from "../core/expr/index.ts";
import type { PayloadStore, Stored } from "../core/ports.ts";
import { DEFAULT_OFFLOAD_THRESHOLD_BYTES, PAYLOAD_PREFIX } from "../manifest/index.ts";

/** Whose payload a value is: keys carry both, so a tenant's payloads share one prefix. */
export interface PayloadOwner {
  readonly tenant: string;
  readonly executionId: string;
}

/**
 * Where an execution's payloads live: `payloads/<tenant>/<execution>/`, so silo tenants
 * can be given a prefix policy (or a KMS key) of their own.
 */
export function payloadPrefix(owner: PayloadOwner): string {
  return `${PAYLOAD_PREFIX}${encodeURIComponent(owner.tenant)}/${encodeURIComponent(owner.executionId)}/`;
}

/** Stores JSON values inline or by reference, by size. */
export class PayloadCodec {
  readonly #payloads: PayloadStore;
  readonly #threshold: number;
  /** Recently loaded payloads by key: content-addressed, so never stale. */
  readonly #cache = new Map<string, JsonValue>();

  /** @param thresholdBytes values whose JSON is larger than this are offloaded (default 200 KB). */
  constructor(payloads: PayloadStore, thresholdBytes = DEFAULT_OFFLOAD_THRESHOLD_BYTES) {
    this.#payloads = payloads;
    this.#threshold = thresholdBytes;
  }

  get threshold(): number {
    return this.#threshold;
  }

  /**
   * Keeps `value` inline when small, else writes it under a content-addressed key of
   * the execution. `force` offloads anything over 1 KB (to fit a message or an item).
   */
  async store(value: JsonValue, owner: PayloadOwner, force = false): Promise<Stored> {
    const text = JSON.stringify(value);
    const bytes = Buffer.byteLength(text);
    if (bytes <= (force ? 1024 : this.#threshold)) return { inline: value };
    const digest = createHash("sha256").update(text).digest("hex");
    const key = `${payloadPrefix(owner)}${digest}.json`;
    // Content-addressed: a key this process has written holds this very text already.
    if (!this.#cache.has(key)) await this.#payloads.put(key, text);
    this.#remember(key, value);
    return { ref: key, bytes };
  }

  async load(stored: Stored): Promise<JsonValue> {
    if ("inline" in stored) return stored.inline;
    const cached = this.#cache.get(stored.ref);
    if (cached !== undefined) return cached;
    const value = JSON.parse(await this.#payloads.get(stored.ref)) as JsonValue;
    this.#remember(stored.ref, value);
    return value;
  }

  #remember(key: string, value: JsonValue): void {
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > 64) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }
}
