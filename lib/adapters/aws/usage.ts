/**
 * Reports each DynamoDB and S3 request the adapters make to a usage sink, charged to
 * the execution whose items or payloads it touches (its partition key `X#<tenant>#<id>`,
 * or its payload key `payloads/<tenant>/<id>/…`), with the capacity units DynamoDB
 * bills: 1 write unit per KB written (rounded up per item), 1 read unit per 4 KB read
 * strongly consistent (half for an eventually consistent read), at least one request's
 * worth. A step put that carries its usage (`u`) counted itself (see the store): it is
 * not charged again. SQS requests are modelled by the runtime (usage.ts), not here.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { ExecutionOwner, UsageSink } from "../../core/ports.ts";
import type { AwsClients } from "./clients.ts";
import { itemWriteUnits } from "./dynamodb-store.ts";

type Item = Record<string, AttributeValue>;

/** The execution of a partition key `X#<tenant>#<execution>` (ids hold no `#`). */
export function ownerOfPartition(pk: string | undefined): ExecutionOwner | undefined {
  if (!pk?.startsWith("X#")) return undefined;
  const last = pk.lastIndexOf("#");
  if (last <= 1) return undefined;
  return { tenant: pk.slice(2, last), executionId: pk.slice(last + 1) };
}

/** The execution of a payload key `payloads/<tenant>/<execution>/<hash>.json` (URI-encoded). */
export function ownerOfPayload(key: string | undefined): ExecutionOwner | undefined {
  const parts = key?.split("/");
  if (parts?.[0] !== "payloads" || parts.length < 4) return undefined;
  try {
    return {
      tenant: decodeURIComponent(parts[1] ?? ""),
      executionId: decodeURIComponent(parts[2] ?? ""),
    };
  } catch {
    return undefined;
  }
}

/** About the bytes DynamoDB counts of items read: names and string values (no copy made). */
function bytes(value: unknown): number {
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value !== "object" || value === null) return 8;
  let total = 0;
  if (Array.isArray(value)) for (const v of value) total += bytes(v);
  else
    for (const [k, v] of Object.entries(value))
      total += (TYPE_TAGS.has(k) ? 0 : Buffer.byteLength(k)) + bytes(v);
  return total;
}

/** The type descriptors of DynamoDB's JSON: not bytes of the item. */
const TYPE_TAGS = new Set(["S", "N", "B", "M", "L", "BOOL", "NULL", "SS", "NS", "BS"]);

/** Read units of `read` bytes: 4 KB each, half when eventually consistent, at least one request's. */
function readUnits(read: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(read / 4096));
  return consistent ? units : units / 2;
}

/** Charges one DynamoDB call (lean client observer) to its execution. */
export function chargeDynamoDb(
  sink: UsageSink,
  operation: string,
  input: Record<string, unknown>,
  output: Record<string, unknown>,
): void {
  const key = (input.Key ?? input.Item) as Item | undefined;
  const consistent = input.ConsistentRead === true;
  switch (operation) {
    case "PutItem": {
      const item = input.Item as Item;
      const owner = ownerOfPartition(item?.pk?.S);
      if (owner && item.u === undefined) sink.charge(owner, { wcu: itemWriteUnits(item) });
      return;
    }
    case "DeleteItem": {
      const owner = ownerOfPartition(key?.pk?.S);
      if (owner) sink.charge(owner, { wcu: 1 });
      return;
    }
    case "UpdateItem": {
      // Billed on the larger item, before or after: about the attributes returned
      // (the wide join asks for them) plus what the update adds.
      const owner = ownerOfPartition(key?.pk?.S);
      const size = bytes(output.Attributes) + bytes(input.ExpressionAttributeValues);
      if (owner) sink.charge(owner, { wcu: Math.max(1, Math.ceil(size / 1024)) });
      return;
    }
    case "BatchGetItem": {
      const responses = (output.Responses ?? {}) as Record<string, Item[]>;
      for (const items of Object.values(responses))
        for (const item of items) {
          const owner = ownerOfPartition(item?.pk?.S);
          if (owner) sink.charge(owner, { rcu: readUnits(bytes(item), true) });
        }
      return;
    }
    case "GetItem": {
      const owner = ownerOfPartition(key?.pk?.S);
      if (owner) sink.charge(owner, { rcu: readUnits(bytes(output.Item), consistent) });
      return;
    }
    case "Query": {
      const values = input.ExpressionAttributeValues as Item | undefined;
      const owner = ownerOfPartition(values?.[":pk"]?.S);
      if (owner) sink.charge(owner, { rcu: readUnits(bytes(output.Items), consistent) });
      return;
    }
    case "BatchWriteItem": {
      const tables = (input.RequestItems ?? {}) as Record<
        string,
        { PutRequest?: { Item: Item } }[]
      >;
      for (const requests of Object.values(tables))
        for (const request of requests) {
          const item = request.PutRequest?.Item;
          const owner = ownerOfPartition(item?.pk?.S);
          if (owner && item) sink.charge(owner, { wcu: itemWriteUnits(item) });
        }
      return;
    }
    default:
      return;
  }
}

/** S3 commands billed as PUT-class requests; the others are GET-class. */
const S3_PUTS = new Set([
  "PutObjectCommand",
  "CreateMultipartUploadCommand",
  "UploadPartCommand",
  "CompleteMultipartUploadCommand",
  "CopyObjectCommand",
  "ListObjectsV2Command",
]);

type Middlewared = {
  middlewareStack: {
    add: (
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ) => void;
  };
};

/**
 * Reports the requests the clients make for executions to `sink`: the lean DynamoDB
 * client's calls, and the S3 client's (an SDK middleware). Call once per set of clients.
 */
export function observeUsage(clients: AwsClients, sink: UsageSink): void {
  clients.lean.dynamodb.observe((operation, input, output) =>
    chargeDynamoDb(sink, operation, input, output),
  );
  (clients.s3 as unknown as Middlewared).middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const owner = ownerOfPayload(args.input.Key as string | undefined);
      if (owner) {
        const put = S3_PUTS.has(context.commandName ?? "");
        sink.charge(owner, put ? { s3: 1 } : { s3Get: 1 });
      }
      return result;
    },
    { step: "initialize", name: "cascade-usage" },
  );
}
