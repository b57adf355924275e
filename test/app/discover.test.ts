/**
 * One discovery of an app's files: what `cdk synth` validates (the app model), what it
 * stages into the functions' asset, and what the Lambda's loader reads from that asset
 * name the same workflows — a nested `workflows/orders/refund.yaml` and an upper-case
 * `.YAML` included — and the staged activities are one module graph (a shared `db.ts`
 * is one instance).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadApp } from "../../lib/app/load.ts";
import { stageApp } from "../../lib/infra/bundle.ts";
import { readAppModel } from "../../lib/infra/model.ts";

const task = (name: string, activity: string) => `name: ${name}
states:
  - name: Go
    type: Task
    resource: urn:cascade:activity:${activity}
    end: true
`;

function makeApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "cascade-discover-"));
  mkdirSync(join(dir, "workflows", "orders", "late"), { recursive: true });
  mkdirSync(join(dir, "activities", "lib"), { recursive: true });
  writeFileSync(join(dir, "cascade.yaml"), "name: discover\n");
  writeFileSync(join(dir, "workflows", "order.yaml"), task("Order", "charge"));
  writeFileSync(join(dir, "workflows", "orders", "refund.yaml"), task("Refund", "refund"));
  writeFileSync(
    join(dir, "workflows", "orders", "late", "Escalate.YAML"),
    task("Escalate", "charge"),
  );
  writeFileSync(
    join(dir, "activities", "lib", "db.ts"),
    "let created = 0;\nexport const pool = { id: ++created, at: Math.random() };\n",
  );
  writeFileSync(
    join(dir, "activities", "charge.ts"),
    'import { pool } from "./lib/db.ts";\nexport const charge = () => pool;\n',
  );
  writeFileSync(
    join(dir, "activities", "refund.ts"),
    'import { pool } from "./lib/db.ts";\nexport const refund = () => pool;\n',
  );
  return dir;
}

test("synth's model, the staged asset and the Lambda loader see the same workflows", async () => {
  const dir = makeApp();
  const model = await readAppModel(dir);
  assert.deepEqual(model.workflows, ["Escalate", "Order", "Refund"]);
  assert.deepEqual(model.activities, ["charge", "refund"], "lib/db.ts is not an activity module");
  const staged = stageApp(model.config);
  assert.ok(existsSync(join(staged, "workflows", "orders", "refund.yaml")), "nested kept");
  assert.ok(existsSync(join(staged, "workflows", "orders", "late", "Escalate.YAML")));
  const loaded = await loadApp(staged);
  assert.deepEqual(loaded.workflows.map((w) => w.defaultName).sort(), [
    "Escalate",
    "order",
    "refund",
  ]);
  assert.deepEqual([...loaded.activities.keys()].sort(), model.activities);
  const local = await loadApp(dir);
  assert.deepEqual(
    local.workflows.map((w) => w.defaultName).sort(),
    loaded.workflows.map((w) => w.defaultName).sort(),
    "cascade dev's loader and the Lambda's agree",
  );
  const charge = loaded.activities.get("charge") as () => { at: number };
  const refund = loaded.activities.get("refund") as () => { at: number };
  assert.equal(charge().at, refund().at, "one pool: the staged modules share db.ts");
});
