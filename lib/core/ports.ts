/**
 * The ports: what the runtime needs from the outside world. Adapters implement
 * them over DynamoDB, SQS and S3 (`lib/adapters/aws`) or in memory for seeded
 * simulations (`lib/adapters/memory`); one contract suite runs against both.
 */

export * from "./ports/cache.ts";
export * from "./ports/clock.ts";
export * from "./ports/messages.ts";
export * from "./ports/payload.ts";
export * from "./ports/queue.ts";
export * from "./ports/records.ts";
export * from "./ports/store.ts";
export * from "./ports/usage.ts";
