/**
 * One SQS batch, as the engine and worker functions receive it: records of one
 * execution run in order, executions run side by side, and the records that
 * failed are reported so only they are redelivered (ReportBatchItemFailures).
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { messageKey, type OutMessage } from "../core/ports.ts";
import type { Runtime } from "./runtime.ts";

export interface BatchRecord {
  readonly id: string;
  readonly body: string;
  readonly receiveCount: number;
}

/**
 * Handles a batch; returns the ids of records that failed. Never throws. With
 * `options.signal` (fired when the invocation is killed at its function's timeout), it
 * commits and sends nothing once the signal fired.
 */
export async function processBatch(
  runtime: Runtime,
  records: readonly BatchRecord[],
  onError: (record: BatchRecord, error: unknown) => void = () => {},
  options: { readonly signal?: AbortSignal } = {},
): Promise<string[]> {
  const failed: string[] = [];
  const byExecution = new Map<string, { record: BatchRecord; envelope: OutMessage }[]>();
  for (const record of records) {
    let envelope: OutMessage;
    try {
      envelope = JSON.parse(record.body) as OutMessage;
      if (!envelope || typeof envelope.mid !== "string" || !envelope.body?.header)
        throw new Error("not a Cascade message");
    } catch (error) {
      // A body that is not ours can never succeed: report it so the queue dead-letters it.
      onError(record, error);
      failed.push(record.id);
      continue;
    }
    const key = `${envelope.body.header.tenant}/${envelope.body.header.executionId}`;
    const list = byExecution.get(key) ?? [];
    list.push({ record, envelope });
    byExecution.set(key, list);
  }
  const envelopes = [...byExecution.values()].flat().map((e) => e.envelope);
  return runtime.meterBatch(envelopes, () =>
    handleBatch(runtime, byExecution, failed, onError, options.signal),
  );
}

async function handleBatch(
  runtime: Runtime,
  byExecution: Map<string, { record: BatchRecord; envelope: OutMessage }[]>,
  failed: string[],
  onError: (record: BatchRecord, error: unknown) => void,
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const batch = runtime.startBatch(signal);
  const handleOne = async ({ record, envelope }: { record: BatchRecord; envelope: OutMessage }) => {
    try {
      await runtime.handle(envelope, record.receiveCount, batch);
    } catch (error) {
      onError(record, error);
      failed.push(record.id);
      await runtime.noteFailure(envelope, error).catch(() => {});
    }
  };
  await Promise.all(
    [...byExecution.values()].map(async (list) => {
      if (runsOfDistinctThreads(list.map((e) => e.envelope))) {
        // Steps of different threads (a Parallel's branches): their activities run side by
        // side, and their reports to the join are applied together in finishBatch.
        await Promise.all(list.map(handleOne));
        return;
      }
      for (const entry of list) await handleOne(entry);
    }),
  );
  // Join reports are written here, then every message the batch caused is sent. A
  // received message whose work failed there (a join it could not write, a follow-up
  // that threw, a message the queue did not take) is failed alone; the others succeed.
  const handled = [...byExecution.values()].flat();
  let finished: Awaited<ReturnType<Runtime["finishBatch"]>>;
  try {
    finished = await runtime.finishBatch(batch);
  } catch (error) {
    for (const { record } of handled) {
      if (failed.includes(record.id)) continue;
      onError(record, error);
      failed.push(record.id);
    }
    return failed;
  }
  for (const { source, error } of finished.failed) {
    const cause = handled.find(({ envelope }) => messageKey(envelope) === source);
    if (cause && !failed.includes(cause.record.id)) {
      onError(cause.record, error);
      failed.push(cause.record.id);
      await runtime.noteFailure(cause.envelope, error).catch(() => {});
    }
  }
  return failed;
}

/** True when every message runs a step of its own thread: safe to handle them side by side. */
function runsOfDistinctThreads(envelopes: readonly OutMessage[]): boolean {
  if (envelopes.length < 2) return false;
  const threads = new Set<string>();
  for (const { body } of envelopes) {
    if (body.kind !== "run" || threads.has(body.token.thread)) return false;
    threads.add(body.token.thread);
  }
  return true;
}

/** An SQS event's records as a batch: Lambda's shape in, ReportBatchItemFailures out. */
export async function handleSqsEvent(
  runtime: Runtime,
  event: SQSEvent,
  onError: (record: BatchRecord, error: unknown) => void = logFailure,
): Promise<SQSBatchResponse> {
  const failed = await processBatch(
    runtime,
    event.Records.map((r) => ({
      id: r.messageId,
      body: r.body,
      receiveCount: Number(r.attributes.ApproximateReceiveCount ?? "1"),
    })),
    onError,
  );
  runtime.noteRecords(event.Records.length, failed.length);
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

/** One JSON line per failed record, for CloudWatch Logs. */
function logFailure(record: BatchRecord, error: unknown): void {
  console.error(
    JSON.stringify({
      level: "error",
      message: "record failed",
      record: record.id,
      error: String(error),
    }),
  );
}
