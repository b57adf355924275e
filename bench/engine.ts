/**
 * Engine micro-benchmark: steps per second for the seed order workflow
 * (validate → choice → three parallel checks → combine), driven directly with
 * no I/O: this is the CPU the engine adds to each transition, not end to end.
 *
 *   npm run bench:engine            # default 20,000 executions
 *   node bench/engine.ts 100000
 */
import { readFileSync } from "node:fs";
import { validateWorkflow } from "../lib/core/cdl/index.ts";
import {
  applyBranchFinished,
  applyThreadEvent,
  branchSpecFor,
  type Command,
  type ExecutionContext,
  type JoinState,
  startBranch,
  startExecution,
  type ThreadState,
} from "../lib/core/engine/index.ts";
import type { JsonValue } from "../lib/core/expr/index.ts";

const executions = Number(process.argv[2] ?? 20_000);
const file = new URL(
  "../examples/order-processing/workflows/order-fulfillment.yaml",
  import.meta.url,
);
const validation = validateWorkflow("order-fulfillment.yaml", readFileSync(file, "utf8"));
const definition = validation.definition;
if (!definition) throw new Error("the example workflow does not validate");

const order: JsonValue = {
  customer_id: "c-42",
  cart_items: [
    { id: "sku-1", quantity: 2, price: 30 },
    { id: "sku-2", quantity: 1, price: 15 },
  ],
};
const outputs: Record<string, JsonValue> = {
  validate_order: { ...order, valid: true },
  verify_identity: { verified: true },
  check_credit: { approved: true },
  check_inventory: { in_stock: true },
  combine_results: { approved: true, reasons: [] },
};

let steps = 0;
function runOne(id: number): void {
  const context: ExecutionContext = {
    executionId: `e-${id}`,
    workflowName: definition?.name ?? "",
    input: order,
    startTime: 0,
  };
  const def = definition as NonNullable<typeof definition>;
  let now = 0;
  const pending: { thread: ThreadState; commands: readonly Command[] }[] = [];
  let root = startExecution(def, context, now);
  steps++;
  pending.push(root);
  let join:
    | { state: JoinState; inputs: Extract<Command, { type: "StartJoin" }>["inputs"] }
    | undefined;
  const branches = new Map<string, ThreadState>();
  while (pending.length > 0) {
    const { thread, commands } = pending.shift() as (typeof pending)[number];
    for (const command of commands) {
      now += 1;
      if (command.type === "RunActivity") {
        const step = applyThreadEvent(
          def,
          context,
          thread.id === "root" ? root.thread : (branches.get(thread.id) ?? thread),
          {
            type: "ActivitySucceeded",
            token: command.token,
            output: outputs[command.activity] ?? null,
          },
          now,
        );
        steps++;
        if (thread.id === "root") root = step;
        else branches.set(step.thread.id, step.thread);
        pending.push(step);
      } else if (command.type === "StartJoin") {
        join = { state: command.join, inputs: command.inputs };
      } else if (command.type === "StartBranches" && join) {
        for (const index of command.indexes) {
          const step = startBranch(
            def,
            context,
            branchSpecFor(join.state, join.inputs, index),
            now,
          );
          steps++;
          branches.set(step.thread.id, step.thread);
          pending.push(step);
        }
      } else if (command.type === "FinishBranch" && join) {
        const step = applyBranchFinished(join.state, command.branch);
        steps++;
        join.state = step.join;
        for (const c of step.commands) {
          if (c.type !== "CompleteJoin" || c.outcome.status !== "succeeded") continue;
          const results = c.outcome.branches.map((b) => ({
            ...b,
            output: branches.get(`${c.joinId}[${b.index}]`)?.data ?? null,
          }));
          root = applyThreadEvent(
            def,
            context,
            root.thread,
            {
              type: "JoinCompleted",
              token: c.parent,
              outcome: { status: "succeeded", branches: results },
            },
            now,
          );
          steps++;
          pending.push(root);
        }
      }
    }
  }
  if (root.thread.status !== "succeeded") throw new Error(`execution ended ${root.thread.status}`);
}

for (let i = 0; i < 500; i++) runOne(i);
steps = 0;
const started = process.hrtime.bigint();
for (let i = 0; i < executions; i++) runOne(i);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const perExecution = steps / executions;
console.log(
  `engine: seed order workflow, ${executions} executions, ${perExecution} engine steps each`,
);
console.log(`  ${Math.round(steps / seconds).toLocaleString("en-US")} engine steps/s`);
console.log(
  `  ${Math.round(executions / seconds).toLocaleString("en-US")} executions/s (engine CPU only, one core)`,
);
console.log(`  ${((seconds / steps) * 1e6).toFixed(1)} µs per step`);
