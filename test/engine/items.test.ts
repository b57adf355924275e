/** A Map's S3 locations, evaluated by the pure core; and the engine's refusal until the fan-out reads them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type MapState, validateWorkflow } from "../../lib/core/cdl/index.ts";
import {
  type ExecutionContext,
  resolveItemSource,
  resolveResultLocation,
  startExecution,
} from "../../lib/core/engine/index.ts";
import type { EvaluationContext } from "../../lib/core/expr/index.ts";

const source = `name: T
states:
  - name: Each
    type: Map
    item_reader:
      bucket: "{{ $.bucket }}"
      key: "in/{{ $.day }}.csv"
      format: csv
      csv_header: [id, qty]
      max_items: 10
    result_writer: { bucket: "{{ $.out }}", key_prefix: "runs/{{ execution.id }}/" }
    iterator:
      - { name: W, type: Pass, end: true }
    end: true
`;
const result = validateWorkflow("t.yaml", source);
const each = result.definition?.flow.states.get("Each") as MapState;

const evaluation = (data: EvaluationContext["data"]): EvaluationContext => ({
  data,
  workflow: { input: data, id: "e-1", name: "T" },
  execution: { id: "e-1", start_time: "2026-01-01T00:00:00.000Z" },
  state: { name: "Each", attempt: 1 },
});

test("resolveItemSource and resolveResultLocation evaluate the templates", () => {
  assert.ok(each.itemReader && each.resultWriter);
  const data = { bucket: "in-data", day: "2026-12-02", out: "out-data" };
  assert.deepEqual(resolveItemSource(each.itemReader, evaluation(data), "Each"), {
    ok: true,
    value: {
      bucket: "in-data",
      key: "in/2026-12-02.csv",
      format: "csv",
      csvHeader: ["id", "qty"],
      maxItems: 10,
    },
  });
  assert.deepEqual(resolveResultLocation(each.resultWriter, evaluation(data), "Each"), {
    ok: true,
    value: { bucket: "out-data", keyPrefix: "runs/e-1" },
  });
});

test("a bucket that is not a name, or a template that fails, is a coded error", () => {
  assert.ok(each.itemReader && each.resultWriter);
  const notName = resolveItemSource(
    each.itemReader,
    evaluation({ bucket: "Bad_Bucket", day: 1 }),
    "Each",
  );
  assert.equal(notName.ok, false);
  assert.ok(!notName.ok);
  assert.equal(notName.error.name, "Cascade.ItemReaderFailed");
  assert.equal(notName.error.retryable, false);
  assert.match(
    notName.error.message,
    /^Each: item_reader bucket: 'Bad_Bucket' is not an S3 bucket name/,
  );
  const notString = resolveItemSource(each.itemReader, evaluation({ bucket: 7 }), "Each");
  assert.ok(!notString.ok);
  assert.match(notString.error.message, /bucket gave 7, not a string/);
  const writer = resolveResultLocation(each.resultWriter, evaluation({ out: null }), "Each");
  assert.ok(!writer.ok);
  assert.equal(writer.error.name, "Cascade.ResultWriterFailed");
  const failing = validateWorkflow(
    "t.yaml",
    source.replace('key: "in/{{ $.day }}.csv"', 'key: "{{ $.day | upper }}"'),
  ).definition?.flow.states.get("Each") as MapState;
  assert.ok(failing.itemReader);
  const expression = resolveItemSource(
    failing.itemReader,
    evaluation({ bucket: "in-data", day: 3 }),
    "Each",
  );
  assert.ok(!expression.ok);
  assert.equal(expression.error.name, "Cascade.ExpressionError");
});

test("a Map with item_reader waits for its items: the runtime is asked to read the evaluated object", () => {
  assert.ok(result.definition);
  const context: ExecutionContext = {
    executionId: "e-1",
    workflowName: "T",
    input: { bucket: "in-data", day: "d", out: "out-data" },
    startTime: 1_000,
  };
  const step = startExecution(result.definition, context, 1_000);
  assert.equal(step.thread.status, "running");
  assert.deepEqual(step.thread.waiting, { kind: "items" });
  const read = step.commands.find((c) => c.type === "ReadItems");
  assert.ok(read && read.type === "ReadItems");
  assert.equal(read.source.bucket, "in-data");
  assert.equal(read.token.thread, "root");
});
