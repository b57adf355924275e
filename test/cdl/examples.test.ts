/** The example app's workflows (the seed documents') validate clean, against the example's own activities. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { loadActivities } from "../../lib/app/activities.ts";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";
import { repoPath } from "../helpers.ts";

const APP = repoPath("examples", "order-processing");

test("every example workflow validates with no error and no warning", async () => {
  const activities = new Set((await loadActivities(`${APP}/activities`)).keys());
  const files = readdirSync(`${APP}/workflows`).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 5, `expected the five seed workflows, found ${files.join(", ")}`);
  for (const file of files) {
    const text = readFileSync(`${APP}/workflows/${file}`, "utf8");
    const result = validateWorkflow(file, text, {
      defaultName: file.replace(/\.yaml$/, ""),
      activities,
    });
    assert.deepEqual(
      result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`),
      [],
    );
    assert.ok(result.definition, file);
  }
});

test("the seed snippets validate exactly as written", () => {
  const seedParallel = `states:
  - name: ParallelVerification
    type: Parallel
    branches:
      - name: VerifyIdentity
        type: Task
        timeout: 10s
        result: $.identity
      - name: CheckCredit
        type: Task
        timeout: 10s
        result: $.credit
    completion_strategy: ALL
    next: CombineResults
  - name: CombineResults
    type: Task
    end: true
`;
  const parallel = validateWorkflow("seed.yaml", seedParallel, { defaultName: "seed" });
  assert.deepEqual(parallel.diagnostics, []);
  assert.equal(parallel.definition?.name, "seed");

  const seedChoice = `states:
  - name: CheckValidation
    type: Choice
    choices:
      - condition: "{{ $.valid == false }}"
        next: RejectOrder
    default: ProcessOrder
  - name: ProcessOrder
    type: Task
    resource: urn:cascade:activity:validate@us-east
    parameters:
      customer_id: "{{ $.customer_id }}"
      product_ids: "{{ $.cart_items[*].id }}"
      flags: "{{ $.flags }}"
      shard: "{{ workflow.input.customer_id | shard }}"
    end: true
  - name: RejectOrder
    type: Fail
`;
  const choice = validateWorkflow("seed-choice.yaml", seedChoice, { defaultName: "seed-choice" });
  assert.deepEqual(choice.diagnostics, []);
  const task = choice.definition?.flow.states.get("ProcessOrder");
  assert.equal(task?.type, "Task");
  if (task?.type === "Task")
    assert.deepEqual(task.resource, { activity: "validate", pool: "us-east" });
});
