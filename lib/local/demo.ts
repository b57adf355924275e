/**
 * `cascade dev --demo`: starts a handful of executions of the example order app
 * (`examples/order-processing`) so there is something to watch, and reports each
 * one's end. Workflows the app does not have are skipped.
 */
import type { JsonValue } from "../core/expr/index.ts";
import type { LocalStack } from "./stack.ts";

interface DemoRun {
  readonly workflow: string;
  readonly label: string;
  readonly input: JsonValue;
  /** An external event to send once the execution waits for it. */
  readonly event?: { readonly name: string; readonly payload: JsonValue; readonly afterMs: number };
}

const order = (
  customer: string,
  items: [string, number, number?][],
  flags?: string[],
): JsonValue => ({
  customer_id: customer,
  cart_items: items.map(([id, quantity, price]) => ({
    id,
    quantity,
    ...(price === undefined ? {} : { price }),
  })),
  ...(flags ? { flags } : {}),
});

/** The demo's executions: happy paths, a rejection, a parallel check that says no, an event. */
export const DEMO_RUNS: readonly DemoRun[] = [
  {
    workflow: "OrderFulfillment",
    label: "a good order",
    input: order("cust-1001", [
      ["book-1", 2, 12.5],
      ["pen-7", 3, 2],
    ]),
  },
  {
    workflow: "OrderFulfillment",
    label: "an order over the credit limit",
    input: order("cust-1002", [["laptop-3", 1, 1_899]]),
  },
  {
    workflow: "OrderFulfillment",
    label: "an empty cart (rejected early)",
    input: order("cust-1003", []),
  },
  {
    workflow: "EarlyValidation",
    label: "early validation",
    input: order("cust-2001", [["mug-2", 1]]),
  },
  {
    workflow: "parallel-verification",
    label: "the seed's parallel verification",
    input: order("cust-3001", [["lamp-4", 1, 40]]),
  },
  {
    workflow: "MultiRegionValidation",
    label: "validation in two worker pools, first answer wins",
    input: order("cust-4001", [["desk-9", 1]]),
  },
  {
    workflow: "AsyncOrderQueue",
    label: "accept, reserve each item, fulfil, wait for the shipment",
    input: order("cust-5001", [
      ["chair-1", 2],
      ["rug-8", 1],
      ["vase-3", 4],
    ]),
    event: { name: "shipped", payload: { carrier: "ACME", tracking: "TRK-5001" }, afterMs: 2_000 },
  },
];

/**
 * Starts the demo's executions on `stack` and reports each one's end to `say`.
 * Resolves when all have ended (or `timeoutMs` passed).
 */
export async function runDemo(
  stack: LocalStack,
  workflows: readonly string[],
  say: (line: string) => void,
  timeoutMs = 60_000,
): Promise<{ succeeded: number; failed: number }> {
  const known = new Set(workflows);
  const runs = DEMO_RUNS.filter((run) => known.has(run.workflow));
  if (runs.length === 0) {
    say("demo: this app has none of the example workflows; nothing started");
    return { succeeded: 0, failed: 0 };
  }
  say(`demo: starting ${runs.length} example executions`);
  let succeeded = 0;
  let failed = 0;
  await Promise.all(
    runs.map(async (run, index) => {
      const started = Date.now();
      const id = `demo-${run.workflow}-${started.toString(36)}-${index}`;
      await stack.runtime.startExecution(run.workflow, run.input, { id });
      if (run.event) {
        const event = run.event;
        setTimeout(() => {
          stack.runtime
            .signal("default", id, event.name, event.payload)
            .catch((error: unknown) => say(`demo: could not send ${event.name}: ${String(error)}`));
        }, event.afterMs).unref();
      }
      try {
        const record = await stack.waitFor(id, timeoutMs);
        const ms = Date.now() - started;
        const status = record.thread.status;
        if (status === "succeeded") succeeded++;
        else failed++;
        const detail =
          status === "succeeded"
            ? JSON.stringify(headline(await stack.runtime.codec.load(record.thread.data)))
            : `${record.thread.error?.name ?? ""}: ${record.thread.error?.message ?? ""}`;
        say(
          `demo: ${status === "succeeded" ? "✓" : "✗"} ${run.workflow} (${run.label}) ${status} in ${ms} ms → ${detail.length > 200 ? `${detail.slice(0, 199)}…` : detail}`,
        );
      } catch (error) {
        failed++;
        say(`demo: ${run.workflow} (${run.label}): ${(error as Error).message}`);
      }
    }),
  );
  say(
    `demo: ${succeeded + failed} executions ended (${succeeded} succeeded, ${failed} failed or rejected, as some are meant to)`,
  );
  return { succeeded, failed };
}

/** The part of an example's output worth a line: its decision, receipt or validation, else all of it. */
function headline(output: JsonValue): JsonValue {
  if (output === null || typeof output !== "object" || Array.isArray(output)) return output;
  for (const key of ["decision", "receipt", "validation", "shipment"]) {
    const value = output[key];
    if (value !== undefined) return { [key]: value };
  }
  return output;
}
