/**
 * One SQS batch, as the engine and worker functions receive it: records of one
 * execution run in order, executions run side by side, and the records that
 * failed are reported so only they are redelivered (ReportBatchItemFailures).
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { OutMessage } from "../core/ports.ts";
import type { Runtime } from "./runtime.ts";

export interface BatchRecord {
  readonly id: string;
  readonly body: string;
  readonly receiveCount: number;
}

/** Handles a batch; returns the ids of records that failed. Never throws. */
export async function processBatch(
  runtime: Runtime,
  records: readonly BatchRecord[],
  onError: (record: BatchRecord, error: unknown) => void = () => {},
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
  const batch = runtime.startBatch();
  await Promise.all(
    [...byExecution.values()].map(async (list) => {
      for (const { record, envelope } of list) {
        try {
          await runtime.handle(envelope, record.receiveCount, batch);
        } catch (error) {
          onError(record, error);
          failed.push(record.id);
          await runtime.noteFailure(envelope, error).catch(() => {});
        }
      }
    }),
  );
  // History is observability, not state: a failed append loses events, never a transition.
  await runtime
    .finishBatch(batch)
    .catch((error: unknown) => onError({ id: "(history)", body: "", receiveCount: 0 }, error));
  return failed;
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
