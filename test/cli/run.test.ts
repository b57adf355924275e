/**
 * `cascade run` as a real process on each example workflow: the output printed,
 * the exit code, `--format json`, JSON from a file and from standard input, and
 * the errors a user meets first.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { repoPath } from "../helpers.ts";
import { runCli } from "./cli-process.ts";

const workflow = (file: string) => repoPath("examples", "order-processing", "workflows", file);
const ORDER = { customer_id: "c1", cart_items: [{ id: "p1", quantity: 2, price: 10 }] };

interface RunJson {
  id: string;
  status: string;
  output: Record<string, unknown> | null;
  error: { name: string; message: string } | null;
}

/** A field of a run's output; fails the test when there is no output. */
function field<T>(result: RunJson, key: string): T {
  assert.ok(result.output, `no output: ${JSON.stringify(result)}`);
  return result.output[key] as T;
}

async function runJson(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; result: RunJson }> {
  const { code, stdout, stderr } = await runCli(["run", ...args, "--format", "json"], {
    ...(stdin === undefined ? {} : { stdin }),
  });
  assert.ok(stdout.trim().startsWith("{"), `expected one JSON object, got:\n${stdout}\n${stderr}`);
  return { code, result: JSON.parse(stdout) as RunJson };
}

test("order-fulfillment: a good order is approved after the three parallel checks", async () => {
  const { code, stdout, stderr } = await runCli([
    "run",
    workflow("order-fulfillment.yaml"),
    "--input",
    JSON.stringify(ORDER),
  ]);
  assert.equal(code, 0, stderr);
  const output = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(output.decision, { approved: true, reasons: [] });
  assert.deepEqual(output.identity, { verified: true, method: "document" });
  assert.deepEqual(output.credit, { approved: true, limit: 1000 });
  assert.deepEqual(output.inventory, { in_stock: true, checked: 1, shard: "shard-7" });
  assert.equal(output.valid, true);
});

test("order-fulfillment: over the credit limit, the decision says why (JSON input from a file)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-run-"));
  const file = join(dir, "order.json");
  writeFileSync(
    file,
    JSON.stringify({ customer_id: "c2", cart_items: [{ id: "tv", quantity: 1, price: 1899 }] }),
  );
  const { code, result } = await runJson([
    workflow("order-fulfillment.yaml"),
    "--input",
    `@${file}`,
  ]);
  assert.equal(code, 0);
  assert.equal(result.status, "succeeded");
  assert.deepEqual(result.output?.decision, {
    approved: false,
    reasons: ["credit limit exceeded"],
  });
});

test("early-validation: an empty cart fails with the Fail state's error and exit code 2", async () => {
  const { code, result } = await runJson([
    workflow("early-validation.yaml"),
    "--input",
    JSON.stringify({ customer_id: "c3", cart_items: [] }),
  ]);
  assert.equal(code, 2);
  assert.equal(result.status, "failed");
  assert.equal(result.output, null);
  assert.deepEqual(result.error, { name: "OrderRejected", message: "the cart is empty" });
  assert.match(result.id, /^[0-9a-f-]{36}$/);
});

test("early-validation: a valid order gets a receipt (input from standard input)", async () => {
  const { code, result } = await runJson(
    [workflow("early-validation.yaml"), "--input", "-", "--id", "order-7"],
    JSON.stringify({
      customer_id: "c4",
      cart_items: [
        { id: "a", quantity: 1 },
        { id: "b", quantity: 2 },
      ],
    }),
  );
  assert.equal(code, 0);
  assert.equal(result.id, "order-7");
  const receipt = field<{ order_id: string; items: number; shard: string }>(result, "receipt");
  assert.equal(receipt.order_id, "ord-c4-2");
  assert.equal(receipt.items, 2);
  assert.match(receipt.shard, /^shard-\d+$/);
});

test("multi-region: the first region to answer wins; a flagged order is rejected", async () => {
  const ok = await runJson([workflow("multi-region.yaml"), "--input", JSON.stringify(ORDER)]);
  assert.equal(ok.code, 0);
  assert.equal(field<{ valid: boolean }>(ok.result, "validation").valid, true);
  const flagged = await runJson([
    workflow("multi-region.yaml"),
    "--input",
    JSON.stringify({ ...ORDER, flags: ["fraud"] }),
  ]);
  assert.equal(flagged.code, 2);
  assert.deepEqual(flagged.result.error, { name: "OrderRejected", message: "flagged for fraud" });
});

test("parallel-verification (no name: named after its file) combines the two checks", async () => {
  const { code, result } = await runJson([
    workflow("parallel-verification.yaml"),
    "--input",
    JSON.stringify(ORDER),
  ]);
  assert.equal(code, 0);
  assert.deepEqual(result.output, { approved: true, reasons: [] });
});

test("async-queueing: Map, a worker queue and an external event sent with --event", async () => {
  const { code, result } = await runJson([
    workflow("async-queueing.yaml"),
    "--input",
    JSON.stringify({
      customer_id: "c5",
      cart_items: [
        { id: "x", quantity: 2 },
        { id: "y", quantity: 1 },
      ],
    }),
    "--event",
    'shipped={"carrier":"ACME"}',
  ]);
  assert.equal(code, 0, JSON.stringify(result));
  assert.deepEqual(result.output?.reservations, [
    { id: "x", reserved: 2 },
    { id: "y", reserved: 1 },
  ]);
  assert.deepEqual(result.output?.accepted, { accepted_items: 2 });
  assert.deepEqual(result.output?.shipment, { carrier: "ACME" });
  assert.ok(
    ["north", "south"].includes(field<{ warehouse: string }>(result, "fulfilment").warehouse),
  );
});

test("errors: invalid JSON is 1, a missing file is 64, an invalid workflow is 1 with its diagnostics", async () => {
  const badJson = await runCli(["run", workflow("order-fulfillment.yaml"), "--input", "{nope"]);
  assert.equal(badJson.code, 1);
  assert.match(badJson.stderr, /--input: the JSON from the command line is invalid/);

  const missing = await runCli(["run", "no/such/workflow.yaml"]);
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /no such file: no\/such\/workflow\.yaml/);

  const missingInput = await runCli([
    "run",
    workflow("order-fulfillment.yaml"),
    "--input",
    "@/no/such.json",
  ]);
  assert.equal(missingInput.code, 64);
  assert.match(missingInput.stderr, /cannot read \/no\/such\.json: ENOENT/);

  const schema = await runCli([
    "run",
    workflow("order-fulfillment.yaml"),
    "--input",
    '{"customer_id":"c"}',
  ]);
  assert.equal(schema.code, 1);
  assert.match(schema.stderr, /INVALID_INPUT/);

  const dir = mkdtempSync(join(tmpdir(), "cascade-run-"));
  const broken = join(dir, "broken.yaml");
  writeFileSync(broken, "states:\n  - name: A\n    type: Pass\n    next: Nowhere\n");
  const invalid = await runCli(["run", broken]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /CDL_UNKNOWN_TARGET/);
  assert.match(invalid.stderr, /nothing was run/);
});
