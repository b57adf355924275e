/** What the API is built from, and its limits. */
import type { AppConfig } from "../app/config.ts";
import type { MetricsReader } from "../core/metrics-query.ts";
import type { Clock, ExecutionStore, MetricsSink, PayloadStore } from "../core/ports.ts";
import { MAX_SYNC_WAIT_SECONDS } from "../manifest/index.ts";
import type { DefinitionRegistry } from "../runtime/definitions.ts";
import type { Runtime } from "../runtime/runtime.ts";

/** What the API needs. Built once per process (at module scope in the Lambda). */
export interface ApiDeps {
  /** Starts, cancels and signals executions. */
  readonly runtime: Runtime;
  /** Reads executions and history. */
  readonly store: ExecutionStore;
  /** Reads offloaded inputs, outputs and history values. */
  readonly payloads: PayloadStore;
  /** The app's current workflows. */
  readonly definitions: DefinitionRegistry;
  /** The app this API serves (`/v1/apps/{app}`). */
  readonly app: string;
  /** `cascade.yaml`: HTTP triggers, tenants and auth. Without it: no triggers, any well-formed tenant locally. */
  readonly config?: AppConfig;
  /**
   * True only for the local stack (`cascade dev`, tests): nothing is verified and the
   * `X-Cascade-Tenant` header names the tenant. Default false: on AWS the tenant comes
   * from the verified identity only (see tenancy.ts).
   */
  readonly local?: boolean;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Larger request bodies get 413 PAYLOAD_TOO_LARGE. Default `MAX_REQUEST_BODY_BYTES`. */
  readonly maxBodyBytes?: number;
  /** Where unexpected errors are logged. Default: standard error. */
  readonly log?: (line: string) => void;
  /** What the metrics routes read (the local store, or CloudWatch). Without it they answer 503. */
  readonly metrics?: MetricsReader;
  /** Where each request's own latency goes (`ApiLatency`: EMF on Lambda, the local store). Default: nowhere. */
  readonly metricsSink?: MetricsSink;
}

/** Request bodies larger than this are refused (413): 1 MiB. Large inputs are offloaded to S3 once accepted. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/**
 * `POST /v1/validate` bodies larger than this are refused (413): 256 KiB. Parsing is
 * linear, but a workflow is a few KB; a larger body is no workflow anyone writes.
 */
export const MAX_VALIDATE_BODY_BYTES = 256 * 1024;
/** The longest a synchronous start waits, in seconds (lib/manifest: a second under API Gateway's integration timeout). */
export const MAX_WAIT_SECONDS = MAX_SYNC_WAIT_SECONDS;
/** List page size: default and maximum. */
export const LIST_LIMIT = { default: 20, max: 100 } as const;
/** History page size: default and maximum. */
export const HISTORY_LIMIT = { default: 100, max: 1000 } as const;
