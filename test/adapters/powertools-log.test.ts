/**
 * `ctx.logger` and the runtime's lines on Lambda: through Powertools Logger, with level,
 * timestamp, the Lambda request id and the execution's fields on every line; EMF stays raw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Context } from "aws-lambda";
import {
  createLogger,
  powertoolsLog,
  recordFailureLog,
} from "../../lib/adapters/aws/powertools-log.ts";
import { runActivity } from "../../lib/runtime/activities.ts";

/** Every line Powertools prints to stdout and stderr while `run` runs. */
async function captured(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const grab = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab;
  process.stderr.write = grab;
  try {
    await run();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const lambdaContext = {
  awsRequestId: "req-0001",
  functionName: "cascade-engine",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:cascade-engine",
  memoryLimitInMB: "1024",
  logGroupName: "/aws/lambda/cascade-engine",
  logStreamName: "s",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 1000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as Context;

test("ctx.logger lines go through Powertools with the request id and the attempt's fields", async () => {
  const logger = createLogger("cascade-test");
  logger.addContext(lambdaContext);
  const lines = await captured(async () => {
    const outcome = await runActivity(
      (_input, ctx) => {
        ctx.logger.info("charging", { amount: 30 });
        ctx.logger.warn("slow card");
        ctx.logger.error("declined", { code: "D1" });
        return { ok: true };
      },
      {},
      {
        idempotencyKey: "k",
        stepKey: "s",
        attempt: 2,
        executionId: "e-1",
        tenant: "acme",
        workflow: "OrderFulfillment",
        state: "Charge",
        activity: "charge",
        log: powertoolsLog(logger),
      },
    );
    assert.deepEqual(outcome, { ok: { ok: true } });
  });
  assert.deepEqual(
    lines.map((l) => [l.level, l.message]),
    [
      ["INFO", "charging"],
      ["WARN", "slow card"],
      ["ERROR", "declined"],
    ],
  );
  for (const line of lines) {
    assert.equal(line.function_request_id, "req-0001");
    assert.equal(line.service, "cascade-test");
    assert.ok(!Number.isNaN(Date.parse(String(line.timestamp))), String(line.timestamp));
    assert.equal(line.execution, "e-1");
    assert.equal(line.tenant, "acme");
    assert.equal(line.workflow, "OrderFulfillment");
    assert.equal(line.state, "Charge");
    assert.equal(line.attempt, 2);
    assert.equal(line.activity, "charge");
    assert.equal(line.time, undefined, "Powertools stamps the time once, as timestamp");
  }
  assert.equal(lines[0]?.amount, 30);
  assert.equal(lines[2]?.code, "D1");
});

test("the runtime's own lines keep their level and fields; text lines become info", async () => {
  const logger = createLogger("cascade-test");
  const log = powertoolsLog(logger);
  const lines = await captured(async () => {
    log(JSON.stringify({ level: "warn", message: "summary not recorded", error: "boom" }));
    log("plain text");
  });
  assert.equal(lines[0]?.level, "WARN");
  assert.equal(lines[0]?.message, "summary not recorded");
  assert.equal(lines[0]?.error, "boom");
  assert.equal(lines[1]?.level, "INFO");
  assert.equal(lines[1]?.message, "plain text");
});

test("the log level filters: WARN drops info lines", async () => {
  const logger = createLogger("cascade-test");
  logger.setLogLevel("WARN");
  const log = powertoolsLog(logger);
  const lines = await captured(async () => {
    log(JSON.stringify({ level: "info", message: "dropped" }));
    log(JSON.stringify({ level: "error", message: "kept" }));
  });
  assert.deepEqual(
    lines.map((l) => l.message),
    ["kept"],
  );
});

test("a failed SQS record is logged at error level with its execution's fields", async () => {
  const logger = createLogger("cascade-test");
  logger.addContext(lambdaContext);
  const onError = recordFailureLog(logger);
  const body = JSON.stringify({
    mid: "m/0",
    body: {
      kind: "run",
      header: { executionId: "e-9", tenant: "acme", workflow: "W" },
      state: "Pay",
      token: { attempt: 3 },
    },
  });
  const lines = await captured(async () => {
    onError({ id: "r-1", body }, new Error("boom"));
    onError({ id: "r-2", body: "not json" }, new Error("bad"));
  });
  assert.equal(lines.length, 2);
  assert.equal(lines[0]?.level, "ERROR");
  assert.equal(lines[0]?.message, "record failed");
  assert.equal(lines[0]?.function_request_id, "req-0001");
  assert.equal(lines[0]?.record, "r-1");
  assert.equal(lines[0]?.execution, "e-9");
  assert.equal(lines[0]?.tenant, "acme");
  assert.equal(lines[0]?.state, "Pay");
  assert.equal(lines[0]?.attempt, 3);
  assert.equal(lines[1]?.record, "r-2");
  assert.equal(lines[1]?.execution, undefined);
});

test("ctx.logger.debug is dropped at INFO and kept at DEBUG", async () => {
  const lines = async (level: "INFO" | "DEBUG") => {
    const logger = createLogger("cascade-test");
    logger.setLogLevel(level);
    return captured(async () => {
      await runActivity(
        (_input, ctx) => {
          ctx.logger.debug("cache miss", { key: "k1" });
          ctx.logger.info("charged");
          return null;
        },
        {},
        {
          idempotencyKey: "k",
          stepKey: "s",
          attempt: 1,
          executionId: "e-2",
          workflow: "W",
          state: "S",
          activity: "a",
          log: powertoolsLog(logger),
        },
      );
    });
  };
  assert.deepEqual(
    (await lines("INFO")).map((l) => l.level),
    ["INFO"],
  );
  const debug = await lines("DEBUG");
  assert.deepEqual(
    debug.map((l) => [l.level, l.message, l.key]),
    [
      ["DEBUG", "cache miss", "k1"],
      ["INFO", "charged", undefined],
    ],
  );
});
