/** The testing kit under Vitest (run by test/testing/runners.test.ts as `vitest run`). */
import { expect, test } from "vitest";
import { runScenario } from "./kit-scenario.ts";

test("a retried activity and a one-hour Wait on virtual time", async () => {
  const { run, realMs } = await runScenario();
  expect(run.status).toBe("succeeded");
  expect(run.output).toEqual({ amount: 5, charge: { id: "ch_1" } });
  expect(run.calls.map((c) => [c.activity, c.attempt, c.at])).toEqual([
    ["charge", 1, 0],
    ["charge", 2, 300_000],
  ]);
  expect(run.elapsedMs).toBeGreaterThanOrEqual(3_600_000);
  expect(realMs).toBeLessThan(10_000);
  expect(run.history.at(-1)?.type).toBe("ExecutionSucceeded");
});
