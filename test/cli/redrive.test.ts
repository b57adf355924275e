/**
 * `cascade process redrive` as a user runs it: a real process against `cascade dev`
 * (a child process). A failed execution redriven from the state that failed with an
 * edited input succeeds; `process get` prints the links and the cost; refusals exit
 * with the documented codes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { EXIT } from "../../lib/cli/exit-codes.ts";
import { type CliResult, runCli } from "./cli-process.ts";
import { type DevProcess, startDev, writeApp } from "./dev-process.ts";

const APP = {
  "cascade.yaml": "name: redrives\n",
  "workflows/pay.yaml": `name: Pay
states:
  - { name: Check, type: Task, resource: "urn:cascade:activity:check", result: $.checked, next: Charge }
  - { name: Charge, type: Task, resource: "urn:cascade:activity:charge", result: $.charged, end: true }
`,
  "activities/index.ts": `export async function check() {
  return true;
}
export async function charge(input: { amount: number }) {
  if (input.amount > 100) throw Object.assign(new Error("declined"), { name: "Declined", retryable: false });
  return { paid: input.amount };
}
`,
};

let dev: DevProcess | undefined;
const cli = (...args: string[]): Promise<CliResult> => {
  if (!dev) throw new Error("cascade dev is not running");
  return runCli([...args, "--endpoint", dev.url], { timeoutMs: 120_000 });
};

before(async () => {
  dev = await startDev(writeApp(APP), ["--no-watch"]);
});
after(async () => {
  assert.equal(await dev?.stop(), 0, "cascade dev stops cleanly on SIGTERM");
});

test("process redrive runs a failed execution again from the failed state with an edited input", async () => {
  const failed = await cli(
    "process",
    "start",
    "--workflow",
    "Pay",
    "--input",
    '{"amount":500}',
    "--wait",
    "20",
    "--format",
    "json",
  );
  assert.equal(failed.code, EXIT.EXECUTION_FAILED, failed.stderr);
  const id = (JSON.parse(failed.stdout) as { id: string }).id;

  const redriven = await cli("process", "redrive", id, "--input", '{"amount":50,"checked":true}');
  assert.equal(redriven.code, 0, redriven.stderr);
  const newId = redriven.stdout.trim();
  assert.match(redriven.stderr, new RegExp(`redriven: ${id} as ${newId}`));

  let shown: CliResult;
  const until = Date.now() + 20_000;
  do {
    shown = await cli("process", "get", newId);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(Date.now() < until, shown.stdout);
  } while (/status\s+running/.test(shown.stdout));
  assert.match(shown.stdout, /status\s+succeeded/);
  assert.match(shown.stdout, /"paid":50/);
  assert.match(shown.stdout, new RegExp(`redriveOf\\s+${id}`));
  assert.match(shown.stdout, /cost\s+~\$\d+\.\d{8} \(estimated at list prices: DynamoDB \d+ WCU/);

  const original = await cli("process", "get", id, "--format", "json");
  const body = JSON.parse(original.stdout) as {
    status: string;
    redrives: string[];
    cost: { usd: number; sqs: { requests: number } };
  };
  assert.equal(body.status, "failed");
  assert.deepEqual(body.redrives, [newId]);
  assert.ok(body.cost.usd > 0 && body.cost.sqs.requests > 0);

  // From an earlier state, with a chosen id; the JSON answer names the original.
  const fromCheck = await cli(
    "process",
    "redrive",
    id,
    "--from",
    "Check",
    "--input",
    '{"amount":5}',
    "--id",
    "pay-again",
    "--format",
    "json",
  );
  assert.equal(fromCheck.code, 0, fromCheck.stderr);
  assert.equal((JSON.parse(fromCheck.stdout) as { redriveOf: string }).redriveOf, id);
});

test("process redrive refusals exit with the documented codes", async () => {
  const done = await cli(
    "process",
    "start",
    "--workflow",
    "Pay",
    "--input",
    '{"amount":1}',
    "--wait",
    "20",
  );
  assert.equal(done.code, 0, done.stderr);
  const id = /^id\s+(\S+)/m.exec(done.stdout)?.[1] ?? "";
  const typo = await cli("process", "redrive", id, "--from", "Chrage");
  assert.equal(typo.code, EXIT.INVALID);
  assert.match(typo.stderr, /UNKNOWN_STATE|did you mean 'Charge'/);
  const needsState = await cli("process", "redrive", id);
  assert.equal(needsState.code, EXIT.INVALID);
  assert.match(needsState.stderr, /from_state/);
  const missing = await cli("process", "redrive", "no-such-execution");
  assert.equal(missing.code, EXIT.NOT_FOUND);
  const badJson = await cli("process", "redrive", id, "--from", "Check", "--input", "{nope");
  assert.equal(badJson.code, EXIT.INVALID);
  // --thread goes with a state inside a branch: on a root-level state it is refused.
  const rootThread = await cli(
    "process",
    "redrive",
    id,
    "--from",
    "Check",
    "--thread",
    "root/X@1[0]",
  );
  assert.equal(rootThread.code, EXIT.INVALID);
  assert.match(rootThread.stderr, /UNKNOWN_THREAD/);
});
