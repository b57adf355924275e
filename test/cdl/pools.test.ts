/** `@<pool>` names a worker pool (its own queue and function, in the app's region); a full AWS region code there gets a warning. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";

const workflow = (resource: string) => `name: Pools
states:
  - name: Charge
    type: Task
    resource: ${resource}
    end: true
`;
const diagnostics = (resource: string) =>
  validateWorkflow("pools.yaml", workflow(resource)).diagnostics.map(
    (d) => `${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`,
  );

test("a pool's name routes the Task to it; the seed's @us-east is such a name", () => {
  for (const resource of [
    "urn:cascade:activity:charge@payments",
    "urn:cascade:activity:charge@us-east",
  ]) {
    const result = validateWorkflow("pools.yaml", workflow(resource));
    assert.deepEqual(result.diagnostics, [], resource);
    const state = result.definition?.flow.states.get("Charge");
    assert.equal(state?.type, "Task");
    if (state?.type === "Task") assert.equal(state.resource.pool, resource.split("@")[1]);
  }
});

test("a full AWS region code is accepted with a warning: the pool runs in the app's region", () => {
  for (const region of ["us-east-1", "eu-west-2", "us-gov-west-1"]) {
    const found = diagnostics(`urn:cascade:activity:charge@${region}`);
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(
      found[0] ?? "",
      new RegExp(
        `^5:15 warning CDL_POOL_NAMED_LIKE_REGION @${region} names a worker pool \\(its own queue and function\\), not the AWS region ${region}: the pool runs in the app's region`,
      ),
    );
  }
});

test("a pool's name is lower-case letters, digits and -", () => {
  assert.deepEqual(diagnostics("urn:cascade:activity:charge@Pay_Ments"), [
    "5:15 error CDL_RESOURCE 'Pay_Ments' is not a worker pool's name: lower-case letters, digits and -, e.g. @payments",
  ]);
});
