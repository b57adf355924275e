/**
 * The end of a batch: the joins it reported to are finished, what it caused is sent
 * (the messages SQS did not take fail their causes), and the executions it ended get
 * their summaries.
 */
import { messageKey, unsentOf } from "../core/ports.ts";
import type { RuntimeContext } from "./context.ts";
import { drain } from "./dispatch.ts";
import { finishJoins } from "./joins.ts";
import { summaryOf } from "./outbox.ts";
import type { Batch } from "./unit-of-work.ts";
import { withSendShares } from "./usage.ts";

/** Finishes a batch (see `Runtime.finishBatch`). */
export async function finishBatch(
  rt: RuntimeContext,
  batch: Batch,
): Promise<{ failed: { source: string; error: unknown }[] }> {
  const failed = await finishJoins(rt, batch, (work) => drain(rt, work));
  failed.push(...(await sendBatch(rt, batch)));
  // An execution some of whose messages were not sent stays listed as running: its
  // cause is redelivered, and the end recorded then (or by the reconciler).
  const unsent = new Set(failed.map((f) => f.source.split("\u0000").slice(0, 2).join("\u0000")));
  for (const key of batch.ended.keys()) if (unsent.has(key)) batch.ended.delete(key);
  await writeSummaries(rt, batch);
  return { failed };
}

/**
 * The summaries of executions that ended, once what they caused is sent. A write that
 * fails is left to the reconciler (the steps are committed; the summary only lists).
 */
async function writeSummaries(rt: RuntimeContext, batch: Batch): Promise<void> {
  const ended = [...batch.ended.values()];
  batch.ended.clear();
  const results = await Promise.allSettled(
    ended.map((record) => {
      const usage = rt.takeUsage(record.header);
      const summary = summaryOf(record);
      return rt.store.putSummary(usage ? { ...summary, usage } : summary, rt.expiry(true));
    }),
  );
  for (const result of results) {
    if (result.status === "rejected")
      rt.log(
        JSON.stringify({
          level: "warn",
          message: "an execution's end was not recorded in its summary; the reconciler will",
          error: String(result.reason),
        }),
      );
  }
}

/** Sends what the batch caused; the messages SQS did not take fail their causes. */
async function sendBatch(
  rt: RuntimeContext,
  batch: Batch,
): Promise<{ source: string; error: unknown }[]> {
  batch.checkAlive();
  const outgoing = batch.outgoing.splice(0);
  const now = rt.now();
  rt.metrics.latencies(rt.options.app, batch.latencies.splice(0), now);
  if (outgoing.length === 0) return [];
  try {
    await rt.deps.queue.send(
      withSendShares(
        outgoing.map((o) => o.message),
        now,
      ),
      now,
    );
    return [];
  } catch (error) {
    const unsent = unsentOf(error);
    if (!unsent) throw error;
    const missing = new Set(unsent);
    const sources = new Set(
      outgoing.filter((o) => missing.has(messageKey(o.message))).map((o) => o.source),
    );
    return [...sources].map((source) => ({ source, error }));
  }
}
