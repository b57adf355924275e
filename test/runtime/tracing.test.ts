/**
 * OpenTelemetry: a root span per execution made by its start, a span per transition and
 * per activity attempt, every span of one execution in one trace across its hops (the
 * start's traceparent rides in the messages), asserted with the SDK's in-memory exporter.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import type { ExecutionHeader } from "../../lib/core/ports.ts";
import {
  derivedTraceIds,
  executionContext,
  parseTraceparent,
  TRACER_NAME,
} from "../../lib/runtime/tracing.ts";
import { tracingFromEnv } from "../../lib/runtime/tracing-setup.ts";
import { repoPath } from "../helpers.ts";
import { memoryStack } from "../support/memory-stack.ts";

const ORDER_FILE = repoPath("examples", "order-processing", "workflows", "order-fulfillment.yaml");
const order = { customer_id: "c-42", cart_items: [{ id: "sku-1", quantity: 2, price: 30 }] };
let flaky = 0;
const activities = {
  validate_order: (input: typeof order) => {
    flaky++;
    if (flaky === 1) throw Object.assign(new Error("blip"), { name: "Transient" });
    return { ...input, valid: true };
  },
  verify_identity: () => ({ verified: true }),
  check_credit: () => ({ approved: true }),
  check_inventory: () => ({ in_stock: true }),
  combine_results: () => ({ approved: true, reasons: [] }),
};

test("one trace per execution: a span per transition and per activity attempt", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities,
    tracer: provider.getTracer(TRACER_NAME),
  });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "t-1" });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "t-2" });
  await stack.drain();
  for (const id of ["t-1", "t-2"])
    assert.equal((await stack.execution(id))?.thread.status, "succeeded");
  const spans = exporter.getFinishedSpans();
  const ofExecution = (id: string) => spans.filter((s) => s.attributes["cascade.execution"] === id);
  for (const id of ["t-1", "t-2"]) {
    const mine = ofExecution(id);
    assert.ok(mine.length > 0, `spans of ${id}`);
    const roots = mine.filter((s) => s.name === "cascade.execution OrderFulfillment");
    assert.equal(roots.length, 1, `${id}: the start exports one root span`);
    const root = roots[0];
    assert.ok(root);
    assert.equal(root.parentSpanContext, undefined, "the root starts a new trace");
    const traceId = root.spanContext().traceId;
    const record = await stack.execution(id);
    assert.equal(
      parseTraceparent(record?.header.traceparent)?.traceId,
      traceId,
      "the header keeps the start's traceparent",
    );
    const byId = new Map(mine.map((s) => [s.spanContext().spanId, s]));
    for (const s of mine) {
      assert.equal(s.spanContext().traceId, traceId, `${s.name} is in ${id}'s trace`);
      if (s.name.startsWith("cascade.transition"))
        assert.equal(s.parentSpanContext?.spanId, root.spanContext().spanId, s.name);
      if (s.name.startsWith("cascade.activity ")) {
        const parent = byId.get(s.parentSpanContext?.spanId ?? "");
        assert.ok(parent?.name.startsWith("cascade.transition"), `${s.name}'s parent`);
      }
    }
    const activitySpans = mine.filter((s) => s.name.startsWith("cascade.activity "));
    const names = activitySpans.map((s) => s.name).sort();
    for (const a of [
      "check_credit",
      "check_inventory",
      "combine_results",
      "validate_order",
      "verify_identity",
    ])
      assert.ok(names.includes(`cascade.activity ${a}`), `${id}: ${names.join(", ")}`);
    const transitions = mine.filter((s) => s.name.startsWith("cascade.transition"));
    assert.ok(transitions.length >= 3, `${id}: ${transitions.length} transitions`);
    for (const s of transitions) {
      assert.equal(s.attributes["cascade.workflow"], "OrderFulfillment");
      assert.equal(s.attributes["cascade.app"], "test");
      assert.equal(typeof s.attributes["messaging.message.delivery_count"], "number");
    }
  }
  // The first attempt of validate_order failed and was retried: two attempt spans, one an error.
  const attempts = ofExecution("t-1")
    .concat(ofExecution("t-2"))
    .filter((s) => s.name === "cascade.activity validate_order")
    .map((s) => [s.attributes["cascade.attempt"], s.status.code]);
  assert.ok(
    attempts.some(([attempt, code]) => attempt === 1 && code === 2),
    JSON.stringify(attempts),
  );
  assert.ok(
    attempts.some(([attempt, code]) => attempt === 2 && code !== 2),
    JSON.stringify(attempts),
  );
  const traceOf = (id: string) => new Set(ofExecution(id).map((s) => s.spanContext().traceId));
  assert.notDeepEqual([...traceOf("t-1")], [...traceOf("t-2")]);
});

test("two tenants with the same execution id get two traces; each one's hops share it", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const stack = memoryStack({
    workflows: [{ file: ORDER_FILE, source: readFileSync(ORDER_FILE, "utf8") }],
    activities,
    tracer: provider.getTracer(TRACER_NAME),
  });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "same", tenant: "acme" });
  await stack.runtime.startExecution("OrderFulfillment", order, { id: "same", tenant: "globex" });
  await stack.drain();
  const spans = exporter.getFinishedSpans();
  const traces = new Map<string, Set<string>>();
  for (const s of spans) {
    const tenant = s.attributes["cascade.tenant"];
    if (typeof tenant !== "string" || s.name.startsWith("cascade.activity ")) continue;
    const set = traces.get(tenant) ?? new Set<string>();
    set.add(s.spanContext().traceId);
    traces.set(tenant, set);
  }
  const acme = [...(traces.get("acme") ?? [])];
  const globex = [...(traces.get("globex") ?? [])];
  assert.equal(acme.length, 1, `acme's root and transitions share one trace: ${acme.join(", ")}`);
  assert.equal(globex.length, 1, `globex's: ${globex.join(", ")}`);
  assert.notEqual(acme[0], globex[0]);
  const hops = spans.filter(
    (s) => s.name.startsWith("cascade.transition") && s.attributes["cascade.tenant"] === "acme",
  );
  assert.ok(hops.length >= 3, `acme: ${hops.length} transitions`);
  const activityTraces = new Set(
    spans.filter((s) => s.name.startsWith("cascade.activity ")).map((s) => s.spanContext().traceId),
  );
  assert.deepEqual([...activityTraces].sort(), [acme[0], globex[0]].sort());
});

test("a header without a traceparent (started untraced) still gets a trace apart per tenant", () => {
  const header: ExecutionHeader = {
    tenant: "acme",
    executionId: "e",
    app: "a",
    workflow: "W",
    definitionHash: "h",
    startedAt: 1,
    input: { inline: null },
  };
  const other: ExecutionHeader = { ...header, tenant: "globex" };
  assert.notEqual(derivedTraceIds(header).traceId, derivedTraceIds(other).traceId);
  const traceIdOf = (h: ExecutionHeader) => trace.getSpanContext(executionContext(h))?.traceId;
  assert.notEqual(traceIdOf(header), traceIdOf(other));
  assert.equal(traceIdOf(header), derivedTraceIds(header).traceId);
  assert.equal(
    parseTraceparent("00-00000000000000000000000000000000-0000000000000001-01"),
    undefined,
  );
  assert.equal(parseTraceparent("garbage"), undefined);
  assert.deepEqual(parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
  });
});

test("tracing is off unless CASCADE_TRACES=otlp", async () => {
  assert.equal(await tracingFromEnv({}, "x"), undefined);
  assert.equal(await tracingFromEnv({ CASCADE_TRACES: "off" }, "x"), undefined);
  const on = await tracingFromEnv(
    { CASCADE_TRACES: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" },
    "cascade-test",
  );
  assert.ok(on);
  assert.equal(typeof on.tracer.startSpan, "function");
});
