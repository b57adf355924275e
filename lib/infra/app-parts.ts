/**
 * What the parts of `CascadeApp` share: the construct's error, a queue and its
 * dead-letter queue, and how long logs are kept.
 */
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";

/** How long function and access logs are kept. */
export const LOG_RETENTION = RetentionDays.ONE_MONTH;

/** Raised when the construct cannot be built from what it was given; `code` is stable. */
export class CascadeInfraError extends Error {
  readonly code: "INFRA_MISSING_ENTRY" | "INFRA_NO_TENANT" | "INFRA_RESERVED_ENV";
  constructor(code: CascadeInfraError["code"], message: string) {
    super(message);
    this.name = "CascadeInfraError";
    this.code = code;
  }
}

/** A work queue and the dead-letter queue its failures go to. */
export interface CascadeQueue {
  readonly queue: sqs.Queue;
  readonly deadLetter: sqs.Queue;
}
