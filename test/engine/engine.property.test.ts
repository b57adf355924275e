/**
 * Properties of the engine over random valid workflows and random message
 * orders: every execution ends exactly once; with ALL-only fan-outs the output
 * does not depend on the order branches finish in; duplicated and stale events
 * change nothing; and the engine is deterministic.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type Definition, validateWorkflow } from "../../lib/core/cdl/index.ts";
import {
  applyThreadEvent,
  type ExecutionContext,
  startExecution,
} from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { runs } from "../helpers.ts";
import { generatedScript, inputArb, workflowArb } from "../support/arbitrary-workflow.ts";
import { simulate } from "../support/simulate.ts";

function definitionOf(text: string): Definition {
  const result = validateWorkflow("generated.yaml", text);
  assert.ok(
    result.definition,
    `a generated workflow must validate:\n${result.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join("\n")}\n${text}`,
  );
  return result.definition;
}

const chaosArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  duplicate: fc.double({ min: 0, max: 0.4, noNaN: true }),
  maxDelay: fc.integer({ min: 0, max: 200 }),
});

test("every generated workflow validates, and every execution ends exactly once under chaos", () => {
  fc.assert(
    fc.property(workflowArb({ orderDependent: true }), inputArb, chaosArb, (text, input, chaos) => {
      const definition = definitionOf(text);
      const result = simulate(definition, input, { script: generatedScript, chaos });
      assert.equal(result.endings, 1, `ended ${result.endings} times`);
      assert.notEqual(result.status, "running");
      for (const thread of result.threads.values()) {
        assert.notEqual(
          thread.status,
          "running",
          `thread ${thread.id} left running in ${thread.current}`,
        );
      }
    }),
    { numRuns: runs(150) },
  );
});

test("with ALL fan-outs, the outcome does not depend on the order messages arrive in", () => {
  fc.assert(
    fc.property(workflowArb(), inputArb, chaosArb, (text, input, chaos) => {
      const definition = definitionOf(text);
      const calm = simulate(definition, input, { script: generatedScript });
      const stormy = simulate(definition, input, { script: generatedScript, chaos });
      assert.equal(stormy.status, calm.status);
      assert.deepEqual(stormy.output, calm.output);
      // Which failing branch is reported first may differ; the error's name may not.
      assert.equal(stormy.error?.name, calm.error?.name);
    }),
    { numRuns: runs(150) },
  );
});

test("the engine is deterministic: the same inputs give the same history, byte for byte", () => {
  fc.assert(
    fc.property(workflowArb({ orderDependent: true }), inputArb, chaosArb, (text, input, chaos) => {
      const definition = definitionOf(text);
      const a = simulate(definition, input, { script: generatedScript, chaos });
      const b = simulate(definition, input, { script: generatedScript, chaos });
      assert.equal(JSON.stringify(a.history), JSON.stringify(b.history));
      assert.equal(JSON.stringify(a.output), JSON.stringify(b.output));
    }),
    { numRuns: runs(50) },
  );
});

test("a duplicated event changes nothing, and a stale token is ignored", () => {
  fc.assert(
    fc.property(workflowArb(), inputArb, (text, input) => {
      const definition = definitionOf(text);
      const context: ExecutionContext = {
        executionId: "e",
        workflowName: "Generated",
        input,
        startTime: 0,
      };
      let step = startExecution(definition, context, 0);
      let now = 0;
      for (let i = 0; i < 50 && step.thread.status === "running"; i++) {
        const run = step.commands.find((c) => c.type === "RunActivity");
        const timer = step.commands.find((c) => c.type === "ScheduleTimer" && c.purpose === "wait");
        let event: Parameters<typeof applyThreadEvent>[3];
        if (run?.type === "RunActivity") {
          event = { type: "ActivitySucceeded", token: run.token, output: { ok: i } as JsonValue };
        } else if (timer?.type === "ScheduleTimer") {
          now = timer.at;
          event = { type: "TimerFired", token: timer.token, purpose: "wait" };
        } else {
          break;
        }
        const before = step.thread;
        step = applyThreadEvent(definition, context, before, event, now);
        assert.ok(step.changed);
        const again = applyThreadEvent(definition, context, step.thread, event, now);
        assert.equal(again.changed, false, `a duplicate ${event.type} must be ignored`);
        assert.equal(again.thread, step.thread);
        assert.deepEqual(again.commands, []);
        const stale = applyThreadEvent(
          definition,
          context,
          step.thread,
          { ...event, token: { ...event.token, step: 0 } } as typeof event,
          now,
        );
        assert.equal(stale.changed, false, "an event for an old step must be ignored");
      }
    }),
    { numRuns: runs(150) },
  );
});
