/**
 * OpenTelemetry: a span per transition and per activity attempt, every span of one
 * execution in one trace across its hops, asserted with the SDK's in-memory exporter.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { executionTraceIds, TRACER_NAME } from "../../lib/runtime/tracing.ts";
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
    const { traceId, spanId } = executionTraceIds("OrderFulfillment", id);
    assert.ok(mine.length > 0, `spans of ${id}`);
    for (const s of mine) {
      assert.equal(s.spanContext().traceId, traceId, `${s.name} is in ${id}'s trace`);
      assert.equal(s.parentSpanContext?.spanId, spanId);
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
  assert.notEqual(
    executionTraceIds("OrderFulfillment", "t-1").traceId,
    executionTraceIds("OrderFulfillment", "t-2").traceId,
  );
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
