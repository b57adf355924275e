/** Silo isolation: one table per tenant. The store contract through the router (on dynalite), and refusal of unknown tenants. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { readConfig } from "../../lib/adapters/aws/bootstrap.ts";
import { DynamoDbExecutionStore } from "../../lib/adapters/aws/dynamodb-store.ts";
import { MemoryExecutionStore } from "../../lib/adapters/memory/store.ts";
import { TenantTablesStore, UnknownTenantError } from "../../lib/adapters/tenant-tables.ts";
import { ENV } from "../../lib/manifest/index.ts";
import { useEmulators } from "../support/emulators.ts";
import { storeContract } from "./store.contract.ts";

const env = useEmulators("tenant-tables");

/** A second table like the provisioned one (same keys and indexes). */
async function tableLike(name: string): Promise<string> {
  const described = await env.clients.dynamodb.send(
    new (await import("@aws-sdk/client-dynamodb")).DescribeTableCommand({
      TableName: env.provisioned.table,
    }),
  );
  const t = described.Table;
  await env.clients.dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: t?.KeySchema,
      AttributeDefinitions: t?.AttributeDefinitions,
      ...(t?.GlobalSecondaryIndexes
        ? {
            GlobalSecondaryIndexes: t.GlobalSecondaryIndexes.map((index) => ({
              IndexName: index.IndexName,
              KeySchema: index.KeySchema,
              Projection: index.Projection,
            })),
          }
        : {}),
    }),
  );
  return name;
}

let n = 0;
storeContract("TenantTablesStore (a DynamoDB table per tenant)", () => {
  // The contract uses tenants t1 and t2; each gets its own table.
  const suffix = ++n;
  const tables = Promise.all([tableLike(`silo-t1-${suffix}`), tableLike(`silo-t2-${suffix}`)]);
  const lazy = (index: number) =>
    new Proxy({} as DynamoDbExecutionStore, {
      get(_target, property) {
        return async (...args: unknown[]) => {
          const name = (await tables)[index] as string;
          const store = new DynamoDbExecutionStore(env.clients.lean.dynamodb, name);
          const method = Reflect.get(store, property) as (...a: unknown[]) => unknown;
          return method.apply(store, args);
        };
      },
    });
  return new TenantTablesStore(
    new Map([
      ["t1", lazy(0)],
      ["t2", lazy(1)],
    ]),
  );
});

test("a tenant without a table is refused; each tenant's data stays in its table", async () => {
  const a = new MemoryExecutionStore();
  const b = new MemoryExecutionStore();
  const store = new TenantTablesStore(
    new Map([
      ["acme", a],
      ["globex", b],
    ]),
  );
  await assert.rejects(store.getExecution("initech", "x"), UnknownTenantError);
  const header = {
    tenant: "acme",
    executionId: "e1",
    app: "shop",
    workflow: "W",
    definitionHash: "h",
    startedAt: 0,
    input: { inline: null },
  };
  const event = { type: "ExecutionStarted" as const, thread: "root", seq: 0, step: 0, at: 1 };
  await store.putThread(
    {
      header,
      version: 1,
      causedBy: "m",
      outbox: [],
      events: [event],
      committedAt: 1,
      thread: {
        id: "root",
        flow: [],
        status: "running",
        current: "A",
        step: 1,
        attempt: 1,
        enteredAt: 0,
        data: { inline: null },
        rng: 1,
        transitions: 1,
        recorded: 1,
      },
    },
    0,
  );
  assert.equal((await a.readHistory("acme", "e1", 10)).items.length, 1);
  assert.equal((await b.readHistory("acme", "e1", 10)).items.length, 0);
  await store.putDefinition("hash", "W", "states: []");
  assert.deepEqual(await a.getDefinition("hash"), { name: "W", source: "states: []" });
});

test("the function's environment names the tenant tables and the cache endpoint", () => {
  const base = {
    [ENV.APP]: "shop",
    [ENV.TABLE]: "shop-acme",
    [ENV.PAYLOAD_BUCKET]: "b",
    [ENV.TRANSITION_QUEUE_URL]: "https://sqs/q",
  };
  const config = readConfig({
    ...base,
    [ENV.TENANT_TABLES]: JSON.stringify({ acme: "shop-acme", globex: "shop-globex" }),
    [ENV.CACHE_ENDPOINT]: "cache.example.com:6379",
  });
  assert.deepEqual(
    [...(config.tenantTables ?? [])],
    [
      ["acme", "shop-acme"],
      ["globex", "shop-globex"],
    ],
  );
  assert.equal(config.cacheEndpoint, "cache.example.com:6379");
  assert.throws(
    () => readConfig({ ...base, [ENV.TENANT_TABLES]: "[1]" }),
    /CASCADE_TENANT_TABLES must be a JSON object/,
  );
});
