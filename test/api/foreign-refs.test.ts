/**
 * S3 of the reliability review, its second half: a payload reference is read only when it
 * belongs to the execution being read (`payloads/<tenant>/<execution>/<sha256>.json`).
 * User data never is a reference (test/api/identity.test.ts); here the stored items
 * themselves name another tenant's payload — a corrupt or forged item, as a bug or a
 * hand-edited table would leave — and the API, through a real HTTP server on the
 * embedded stack, must read nothing of it: not in GET execution, not in history.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createApiHandler } from "../../lib/api/index.ts";
import type { ExecutionStore, ExecutionView, PayloadStore } from "../../lib/core/ports.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";
import type { StoredHistoryEvent } from "../../lib/runtime/budget.ts";

const WAITER = `name: Waiter
states:
  - { name: AwaitGo, type: WaitForEvent, event: go, timeout: 60s, result: $.go, end: true }
`;
const EXEC = "/v1/apps/shop/executions";
// A marker no request id (a UUID, quoted in a 500's message) can hold: "4111-" once did.
const SECRET = { card: `secret-card-${"s".repeat(9000)}` };

let stack: LocalStack;
let server: HttpServer;
/** The payload keys the API's handler read. */
const reads: string[] = [];
/** The reference the forged items carry, once the victim's payload is written. */
let forged: { ref: string; bytes: number } | undefined;
const FORGED_IDS = new Set(["mallory", "mallory-sub"]);

/** A reference under the reader's own prefix that climbs out of it (`..` is no step up in S3). */
const climbing = (victimKey: string) =>
  victimKey.replace("payloads/acme/victim/", "payloads/default/mallory-sub/../../acme/victim/");

/** The API's store, returning the forged items for Mallory's executions. */
function forging(store: ExecutionStore): ExecutionStore {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      if (key === "getExecution")
        return async (tenant: string, id: string) => {
          const view = (await value.call(target, tenant, id)) as ExecutionView | undefined;
          if (!view || !forged || !FORGED_IDS.has(id)) return view;
          const ref = id === "mallory" ? forged.ref : climbing(forged.ref);
          return { ...view, header: { ...view.header, input: { ref, bytes: forged.bytes } } };
        };
      if (key === "readHistory")
        return async (tenant: string, id: string, ...rest: unknown[]) => {
          const page = (await value.call(target, tenant, id, ...rest)) as {
            items: StoredHistoryEvent[];
            cursor?: string;
          };
          if (!forged || !FORGED_IDS.has(id)) return page;
          const ref = id === "mallory" ? forged.ref : climbing(forged.ref);
          const items = page.items.map((event, i) =>
            i === 0 ? { ...event, refs: { input: { ref, bytes: forged?.bytes ?? 1 } } } : event,
          );
          return { ...page, items };
        };
      return value.bind(target);
    },
  });
}

before(async () => {
  stack = await startLocalStack({
    app: "shop",
    workflows: [{ file: "waiter.yaml", source: WAITER }],
    activities: new Map(),
    ephemeral: true,
    runtime: { offloadThresholdBytes: 2048, log: () => {} },
  });
  const payloads: PayloadStore = new Proxy(stack.payloads, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (key === "get")
        return (k: string) => {
          reads.push(k);
          return (value as PayloadStore["get"]).call(target, k);
        };
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: forging(stack.store),
    payloads,
    definitions: stack.definitions,
    app: "shop",
    local: true,
    log: () => {},
  });
  server = await startHttpServer({ handler, port: 0, warn: () => {} });
});

after(async () => {
  await server?.close();
  await stack?.stop();
});

async function call(method: string, path: string, tenant: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      "x-cascade-tenant": tenant,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

test("a stored reference to another tenant's payload is refused unread, in GET execution and in history", async () => {
  const started = await call("POST", "/v1/apps/shop/workflows/Waiter/executions", "acme", {
    id: "victim",
    input: SECRET,
  });
  assert.equal(started.status, 202, started.text);
  const victim = (await stack.store.getExecution("acme", "victim"))?.header.input;
  assert.ok(victim && "ref" in victim, "the victim's input is offloaded");
  assert.match(victim.ref, /^payloads\/acme\/victim\/[0-9a-f]{64}\.json$/);
  for (const id of FORGED_IDS) {
    const own = await call("POST", "/v1/apps/shop/workflows/Waiter/executions", "default", {
      id,
      input: { mine: true },
    });
    assert.equal(own.status, 202, own.text);
  }
  forged = victim;

  for (const id of FORGED_IDS) {
    reads.length = 0;
    for (const path of [`${EXEC}/${id}`, `${EXEC}/${id}/history`]) {
      const got = await call("GET", path, "default");
      assert.equal(got.status, 500, `${path}: ${got.text.slice(0, 200)}`);
      assert.equal(JSON.parse(got.text).error.code, "INTERNAL");
      assert.ok(!got.text.includes("secret-card-"), `${path} answered the victim's data`);
    }
    assert.deepEqual(reads, [], `${id}: the API read ${reads.join(", ")}`);
  }

  // The victim reads its own, and an execution with no forged item is untouched.
  forged = undefined;
  const own = await call("GET", `${EXEC}/victim`, "acme");
  assert.equal(own.status, 200);
  assert.deepEqual(JSON.parse(own.text).input, SECRET);
  const history = await call("GET", `${EXEC}/mallory/history`, "default");
  assert.equal(history.status, 200, history.text);
  assert.deepEqual(JSON.parse(history.text).events[0].input, { mine: true });
  for (const [tenant, id] of [
    ["acme", "victim"],
    ["default", "mallory"],
    ["default", "mallory-sub"],
  ] as const)
    await call("POST", `${EXEC}/${id}/cancel`, tenant, {});
});
