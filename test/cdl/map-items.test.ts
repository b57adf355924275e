/** A Map's `item_reader:` and `result_writer:`: their checks (line:column, did-you-mean) and normalised form. */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EXIT } from "../../lib/cli/exit-codes.ts";
import { captureIo } from "../../lib/cli/io.ts";
import { main } from "../../lib/cli/program.ts";
import { type MapState, validateWorkflow } from "../../lib/core/cdl/index.ts";
import { evaluateTemplate } from "../../lib/core/expr/index.ts";

/** A Map workflow; `keys` are the Map's extra lines (4 spaces in), from line 5. */
const workflow = (keys: string) => `name: M
states:
  - name: Each
    type: Map
${keys}
    iterator:
      - { name: W, type: Pass, end: true }
    end: true
`;

function mapOf(keys: string): MapState {
  const result = validateWorkflow("m.yaml", workflow(keys));
  assert.deepEqual(
    result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`),
    [],
  );
  const state = result.definition?.flow.states.get("Each");
  assert.ok(state?.type === "Map");
  return state;
}

function problems(keys: string): string[] {
  const result = validateWorkflow("m.yaml", workflow(keys));
  assert.equal(result.definition, undefined, "invalid");
  return result.diagnostics.map(
    (d) => `${d.line}:${d.column} ${d.code}${d.suggestion ? ` (${d.suggestion})` : ""}`,
  );
}

const context = {
  data: { bucket: "in-bucket", day: "2026-12-02" },
  workflow: { input: null, id: "e1", name: "M" },
  execution: { id: "e1", start_time: "2026-12-02T00:00:00.000Z" },
  state: { name: "Each", attempt: 1 },
};

test("a Map with item_reader normalises: templates compiled, no items, csv header default", () => {
  const jsonl = mapOf(`    item_reader:
      bucket: "{{ $.bucket }}"
      key: "orders/{{ $.day }}.jsonl"
      format: jsonl
      max_items: 500
    result_writer: { bucket: out-bucket, key_prefix: "runs/{{ execution.id }}" }
    result: $.manifest`);
  assert.ok(jsonl.itemReader);
  assert.equal(jsonl.itemReader.format, "jsonl");
  assert.equal(jsonl.itemReader.maxItems, 500);
  assert.equal(jsonl.itemReader.csvHeader, undefined);
  assert.equal(evaluateTemplate(jsonl.itemReader.bucket, context), "in-bucket");
  assert.equal(evaluateTemplate(jsonl.itemReader.key, context), "orders/2026-12-02.jsonl");
  assert.deepEqual(jsonl.items, { kind: "constant", value: [] });
  assert.ok(jsonl.resultWriter);
  assert.equal(evaluateTemplate(jsonl.resultWriter.bucket, context), "out-bucket");
  assert.equal(evaluateTemplate(jsonl.resultWriter.keyPrefix, context), "runs/e1");
  assert.deepEqual(jsonl.result, ["manifest"]);

  const csv = mapOf("    item_reader: { bucket: b-1, key: a.csv, format: csv }");
  assert.equal(csv.itemReader?.csvHeader, true, "csv: the first row names the columns");
  const named = mapOf(
    "    item_reader: { bucket: b-1, key: a.csv, format: csv, csv_header: [id, qty] }",
  );
  assert.deepEqual(named.itemReader?.csvHeader, ["id", "qty"]);
  const plain = mapOf('    items: "{{ $.xs }}"');
  assert.equal(plain.itemReader, undefined);
  assert.equal(plain.resultWriter, undefined);
});

test("items and item_reader: exactly one, reported at line:column", () => {
  assert.deepEqual(
    problems(`    items: "{{ $.xs }}"
    item_reader: { bucket: b-1, key: k, format: json }`),
    ["6:5 CDL_CONFLICTING_KEYS"],
  );
  assert.deepEqual(problems("    max_concurrency: 2"), ["3:11 CDL_REQUIRED"]);
});

test("unknown keys and formats get a did-you-mean; missing keys are named", () => {
  assert.deepEqual(
    problems(`    item_reader:
      bucket: b-1
      key: k
      formt: jsonl`),
    ["6:7 CDL_REQUIRED", "8:7 CDL_UNKNOWN_KEY (format)"],
  );
  assert.deepEqual(problems("    item_reader: { bucket: b-1, key: k, format: jsnl }"), [
    "5:49 CDL_INVALID_VALUE (jsonl)",
  ]);
  assert.deepEqual(
    problems(`    item_readr: { bucket: b-1, key: k, format: json }
    items: []`),
    ["5:5 CDL_UNKNOWN_KEY (item_reader)"],
  );
  assert.deepEqual(
    problems(`    items: []
    result_writer: { bucket: b-1, key_prefx: out }`),
    ["6:20 CDL_REQUIRED", "6:35 CDL_UNKNOWN_KEY (key_prefix)"],
  );
});

test("bad values: bucket names, empty key, csv_header, max_items, templates", () => {
  assert.deepEqual(
    problems(`    item_reader:
      bucket: My_Bucket
      key: ""
      format: json
      csv_header: true
      max_items: 0
    result_writer: { bucket: "a..b", key_prefix: "{{ $.x " }`),
    [
      "6:15 CDL_INVALID_VALUE",
      "7:12 CDL_INVALID_VALUE",
      "9:7 CDL_CONFLICTING_KEYS",
      "10:18 CDL_INVALID_VALUE",
      "11:30 CDL_INVALID_VALUE",
      "11:51 CDL_EXPRESSION",
    ],
  );
  assert.deepEqual(
    problems("    item_reader: { bucket: b-1, key: k, format: csv, csv_header: [id, '', id] }"),
    ["5:71 CDL_INVALID_VALUE", "5:75 CDL_INVALID_VALUE"],
  );
  assert.deepEqual(
    problems("    item_reader: { bucket: b-1, key: k, format: csv, csv_header: false }"),
    ["5:66 CDL_INVALID_VALUE"],
  );
  // A templated bucket is checked once evaluated, at run time.
  mapOf('    item_reader: { bucket: "{{ $.bucket }}", key: k, format: json }');
});

test("cascade validate rejects max_concurrency 0 or negative and negative tolerances", async () => {
  const dir = await mkdtemp(join(tmpdir(), "validate-map-"));
  await writeFile(
    join(dir, "m.yaml"),
    workflow(`    items: []
    max_concurrency: -1
    tolerated_failures: -2
    tolerated_failure_percentage: -0.5`),
  );
  await writeFile(join(dir, "z.yaml"), workflow("    items: []\n    max_concurrency: 0"));
  const io = captureIo(dir);
  const code = await main(["validate", ".", "--format", "json"], io);
  assert.equal(code, EXIT.INVALID);
  const report = JSON.parse(io.out.join("")) as {
    files: { file: string; diagnostics: { code: string; line: number; column: number }[] }[];
  };
  const lines = Object.fromEntries(
    report.files.map((f) => [f.file, f.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`)]),
  );
  assert.deepEqual(lines["m.yaml"], [
    "6:22 CDL_INVALID_VALUE",
    "7:25 CDL_INVALID_VALUE",
    "8:35 CDL_INVALID_VALUE",
  ]);
  assert.deepEqual(lines["z.yaml"], ["6:22 CDL_INVALID_VALUE"]);
});
