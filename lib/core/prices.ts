/**
 * The one price table: AWS list prices that `GET execution`'s `cost` and the runtime
 * benchmark (bench/runtime.ts) turn usage into dollars with. us-east-1, on-demand, no
 * free tier, Lambda on arm64 (the CDK construct's architecture).
 */
import type { Usage } from "./ports.ts";

/** USD per unit, with when and where the figures were read. */
export const PRICES = {
  region: "us-east-1",
  /** When the figures were read from the pages below. */
  date: "2026-11-23",
  source: [
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "https://aws.amazon.com/sqs/pricing/",
    "https://aws.amazon.com/s3/pricing/",
    "https://aws.amazon.com/lambda/pricing/",
    "https://aws.amazon.com/step-functions/pricing/",
  ],
  dynamodb: {
    /** $0.625 per million write request units. */
    writeUnit: 0.625e-6,
    /** $0.125 per million read request units. */
    readUnit: 0.125e-6,
  },
  /** $0.40 per million requests (standard queues; 64 KB chunks count as one request each here). */
  sqs: { request: 0.4e-6 },
  s3: {
    /** $0.005 per 1,000 PUT, COPY, POST, LIST requests. */
    put: 5e-6,
    /** $0.0004 per 1,000 GET and other requests. */
    get: 4e-7,
  },
  lambda: {
    /** $0.20 per million requests. */
    invocation: 0.2e-6,
    /** $0.0000133334 per GB-second on arm64. */
    gbSecond: 0.0000133334,
  },
  /** Step Functions Standard: $25 per million state transitions (for comparison). */
  stepFunctions: { transition: 25e-6 },
} as const;

/** An execution's cost as `GET execution` shows it. */
export interface Cost {
  readonly dynamodb: { readonly writeUnits: number; readonly readUnits: number };
  readonly sqs: { readonly requests: number };
  readonly s3: { readonly requests: number };
  readonly lambda: { readonly invocations: number; readonly gbSeconds: number };
  /** The sum at `PRICES`, in dollars. */
  readonly usd: number;
  /** Always true: shared requests are split, and a few are modelled (docs/api.md). */
  readonly estimated: true;
  /** Set when the execution has more items than one read sums: the figures are of those read. */
  readonly partial?: true;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Dollars of `usage` at list prices. */
export function dollarsOf(usage: Usage): number {
  return (
    usage.wcu * PRICES.dynamodb.writeUnit +
    usage.rcu * PRICES.dynamodb.readUnit +
    usage.sqs * PRICES.sqs.request +
    usage.s3 * PRICES.s3.put +
    usage.s3Get * PRICES.s3.get +
    usage.invocations * PRICES.lambda.invocation +
    usage.gbs * PRICES.lambda.gbSecond
  );
}

/** `usage` as the API shows it: counts to 4 decimals (shares), dollars to 12. */
export function costOf(usage: Usage, complete = true): Cost {
  return {
    dynamodb: { writeUnits: round(usage.wcu, 4), readUnits: round(usage.rcu, 4) },
    sqs: { requests: round(usage.sqs, 4) },
    s3: { requests: round(usage.s3 + usage.s3Get, 4) },
    lambda: { invocations: round(usage.invocations, 4), gbSeconds: round(usage.gbs, 6) },
    usd: round(dollarsOf(usage), 12),
    estimated: true,
    ...(complete ? {} : { partial: true as const }),
  };
}
