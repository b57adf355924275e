/**
 * The runtime's log lines and `ctx.logger` on Lambda, through Powertools Logger: a level,
 * a timestamp, the Lambda request id (once `injectLambdaContext` runs) and the fields the
 * runtime puts on each line (execution, workflow, state, attempt, tenant). The runtime
 * writes one JSON object per line to a `log` function; this adapter is that function.
 *
 * Metrics are NOT routed here: EMF lines must reach CloudWatch Logs exactly as printed
 * (a JSON object whose `_aws` member is at the top level), so the EMF sink keeps writing
 * raw to standard output. Powertools prints through its own `Console` over
 * `process.stdout` too, so under the Lambda JSON log format neither is wrapped again.
 */
import { Logger } from "@aws-lambda-powertools/logger";

/** The levels `cascade.yaml`'s `logging.level` takes, Lambda's application log levels. */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/**
 * The function's logger. On Lambda the level comes from `AWS_LAMBDA_LOG_LEVEL` (the
 * construct sets the application log level from `logging.level`), which Powertools reads.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Fields the runtime writes that Powertools writes itself (it stamps its own time and level). */
const OWN_FIELDS = new Set(["time", "level", "message"]);

/**
 * A `log` function for the runtime over a Powertools logger: each line the runtime
 * writes (`{"level":"warn","message":…,…fields}`) becomes one Powertools line at that
 * level with those fields; a line that is not such an object is logged as an info message.
 */
export function powertoolsLog(logger: Logger): (line: string) => void {
  return (line: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      logger.info(line);
      return;
    }
    const record = parsed as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record))
      if (!OWN_FIELDS.has(key)) fields[key] = value;
    const message = typeof record.message === "string" ? record.message : "";
    switch (String(record.level ?? "info").toLowerCase()) {
      case "debug":
        logger.debug(message, fields);
        return;
      case "warn":
        logger.warn(message, fields);
        return;
      case "error":
        logger.error(message, fields);
        return;
      default:
        logger.info(message, fields);
    }
  };
}

/**
 * The line for an SQS record whose handling failed (it is reported for redelivery): at
 * error level, with the record's id and, when its body is a Cascade message, its
 * execution, tenant, workflow, state and attempt.
 */
export function recordFailureLog(
  logger: Logger,
): (record: { readonly id: string; readonly body: string }, error: unknown) => void {
  return (record, error) => {
    let fields: Record<string, unknown> = {};
    try {
      const message = JSON.parse(record.body) as {
        body?: {
          header?: { executionId?: string; tenant?: string; workflow?: string };
          state?: string;
          token?: { attempt?: number };
        };
      };
      const body = message.body;
      fields = {
        execution: body?.header?.executionId,
        tenant: body?.header?.tenant,
        workflow: body?.header?.workflow,
        state: body?.state,
        attempt: body?.token?.attempt,
      };
    } catch {
      // not a Cascade message: the record id is all there is
    }
    logger.error("record failed", { record: record.id, error: String(error), ...fields });
  };
}
