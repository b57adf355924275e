/**
 * Peer benchmark: the seed order workflow on DBOS Transact (local PostgreSQL).
 *
 * One registered workflow function: validate_order as a step, the choice as plain
 * code, the three checks as steps started together and awaited with Promise.all
 * (DBOS numbers steps when they are called, so concurrent steps are deterministic),
 * then combine_results as a step. Each workflow is called directly and awaited, so
 * its latency includes DBOS's checkpoints in the system database (the workflow's
 * status, each step's output), with PostgreSQL's default durable commits. The
 * default system database pool (10) is kept: on 2 cores a larger one was slower.
 * The system database is dedicated to this benchmark: dropped and created anew
 * before the run, dropped after it (an advisory lock keeps a second run from using
 * it meanwhile).
 *
 *   node bench/peers/dbos.ts [n at c=1] [n at c=32]        # defaults 300 and 2000
 *   BENCH_PG_URL=postgresql://postgres@host:5432/postgres node bench/peers/dbos.ts
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DBOS } from "@dbos-inc/dbos-sdk";
import pg from "pg";
import {
  activities,
  failed,
  hardTimeout,
  measure,
  type Order,
  order,
  unreachable,
  type ValidatedOrder,
} from "./harness.ts";

const PEER = "dbos";
const DATABASE = process.env.BENCH_DBOS_DATABASE ?? "cascade_bench_dbos";
const adminUrl = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const systemDatabaseUrl = new URL(adminUrl);
systemDatabaseUrl.pathname = `/${DATABASE}`;
// DBOS's default idle-transaction timeout (60 s), given in the URL: otherwise DBOS sets it
// with a query on each new pool connection, which makes pg print a deprecation warning.
if (!systemDatabaseUrl.searchParams.has("options"))
  systemDatabaseUrl.searchParams.set("options", "-c idle_in_transaction_session_timeout=60000");

hardTimeout(PEER);

// ---- PostgreSQL -----------------------------------------------------------------

// Held for the whole run: it checks that PostgreSQL is up, creates and drops the system
// database, and holds an advisory lock so that two runs never share that database.
const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
admin.on("error", (error) => console.error(`${PEER}: admin connection: ${error.message}`));
try {
  await admin.connect();
} catch (error) {
  unreachable(
    PEER,
    `PostgreSQL at ${adminUrl}`,
    error,
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
  );
}
const { rows } = await admin.query<{ locked: boolean }>(
  "SELECT pg_try_advisory_lock(hashtext($1)) AS locked",
  [DATABASE],
);
if (!rows[0]?.locked) {
  console.error(`${PEER}: another run is using the database ${DATABASE}; try again when it ends`);
  await admin.end();
  process.exit(1);
}
async function dropDatabase(): Promise<void> {
  // After DBOS.shutdown a pool connection may still be closing: wait for it (up to 2 s)
  // rather than have the forced drop kill it, which DBOS logs as an unexpected error.
  for (let i = 0; i < 20; i++) {
    const { rows } = await admin.query<{ sessions: number }>(
      "SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE datname = $1",
      [DATABASE],
    );
    if (rows[0]?.sessions === 0) break;
    await sleep(100);
  }
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(DATABASE)} WITH (FORCE)`);
}
// A fresh system database, so that every run starts from empty DBOS tables.
await dropDatabase();
await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(DATABASE)}`);

// ---- the workflow ---------------------------------------------------------------

async function orderWorkflowFunction(input: Order) {
  const validated = await DBOS.runStep(async () => activities.validate_order(input), {
    name: "validate_order",
    retriesAllowed: true,
    maxAttempts: 3,
    intervalSeconds: 0.2,
    backoffRate: 2,
  });
  // Choice: an invalid order ends the workflow here.
  if (!validated.valid) throw new Error("OrderRejected: invalid order");
  const check = <T>(name: string, activity: (order: ValidatedOrder) => T) =>
    DBOS.runStep(async () => activity(validated), { name });
  const [identity, credit, inventory] = await Promise.all([
    check("verify_identity", activities.verify_identity),
    check("check_credit", activities.check_credit),
    check("check_inventory", activities.check_inventory),
  ]);
  return DBOS.runStep(async () => activities.combine_results(identity, credit, inventory), {
    name: "combine_results",
  });
}

const orderWorkflow = DBOS.registerWorkflow(orderWorkflowFunction, { name: "orderWorkflow" });

DBOS.setConfig({
  name: "cascade-bench",
  systemDatabaseUrl: systemDatabaseUrl.href,
  applicationVersion: "bench",
  logLevel: "warn",
});

let failure: { error: unknown } | undefined;
try {
  await DBOS.launch();
  await measure(PEER, async (n) => {
    const decision = await orderWorkflow(order(n));
    if (!decision.approved) throw new Error(`workflow ${n}: not approved`);
  });
} catch (error) {
  failure = { error };
} finally {
  await DBOS.shutdown({ workflowCompletionTimeoutMS: 5000 });
  await dropDatabase();
  await admin.end(); // releases the advisory lock
}
if (failure) failed(PEER, failure.error);
