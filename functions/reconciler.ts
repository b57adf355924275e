/**
 * The reconciler function (DESIGN.md invariant 10): an EventBridge schedule
 * (`reconciler.every` of cascade.yaml) runs it; it finds the executions whose
 * committed work was never sent — a process that died between a commit and its
 * sends, an HTTP call that stopped halfway — and sends it, for every tenant of the
 * app. It logs one JSON line per run; a tenant that fails does not stop the others,
 * and the run then fails (Lambda's Errors metric, the error-rate alarm).
 */
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { ScheduledEvent } from "aws-lambda";
import { createServicesFromEnv } from "../lib/adapters/aws/bootstrap.ts";
import { type AppConfig, CONFIG_DEFAULTS } from "../lib/app/config.ts";
import type { ReconcileOptions } from "../lib/runtime/reconcile.ts";
import type { Runtime } from "../lib/runtime/runtime.ts";

/**
 * Repairs listed in the run's log line; the rest are counted. Keeps the line far
 * below CloudWatch Logs' 256 KB event limit (an entry is about 120 bytes).
 */
export const MAX_LOGGED_REPAIRS = 100;

/** What a run works on: the runtime and the tenants to look at. */
export interface ReconcilerTarget {
  readonly app: string;
  readonly runtime: Pick<Runtime, "reconcile">;
  /** Every tenant of the app (see {@link tenantsOf}). */
  readonly tenants: readonly string[];
  /** Where the run's JSON line goes. Default: standard output (CloudWatch Logs). */
  readonly log?: (line: string) => void;
}

/** What one run did; also the function's result (`aws lambda invoke` shows it). */
export interface ReconcilerRun {
  readonly tenants: readonly string[];
  /** Running executions looked at, over every tenant. */
  readonly examined: number;
  readonly repaired: readonly {
    readonly tenant: string;
    readonly executionId: string;
    readonly what: string;
  }[];
  /** Tenants whose pass threw, with the error's name and message. */
  readonly failed: readonly { readonly tenant: string; readonly error: string }[];
  readonly durationMs: number;
}

/** Raised when the pass of one tenant or more threw; the others were still reconciled. */
export class ReconcilerError extends Error {
  readonly run: ReconcilerRun;
  constructor(run: ReconcilerRun, cause: unknown) {
    super(
      `the reconciler failed for ${run.failed.map((f) => `tenant '${f.tenant}' (${f.error})`).join(", ")}`,
      { cause },
    );
    this.name = "ReconcilerError";
    this.run = run;
  }
}

/**
 * The tenants the reconciler looks at: `tenants.names` of cascade.yaml, the one list
 * the construct makes the tables from (silo: a table each, `CASCADE_TENANT_TABLES`)
 * and the api function admits callers from; `default` when it names none.
 */
export function tenantsOf(config: AppConfig): readonly string[] {
  return config.tenants.names.length > 0 ? config.tenants.names : [CONFIG_DEFAULTS.tenant];
}

const services = await createServicesFromEnv();
const defaultTarget: ReconcilerTarget = {
  app: services.app,
  runtime: services.runtime,
  tenants: tenantsOf(services.appConfig),
};

/**
 * One run: `runtime.reconcile` for each tenant in turn, then one JSON line.
 * @param options passed to `reconcile` (its defaults: idle 5 minutes, 30 while an activity may run).
 * @throws ReconcilerError when a tenant's pass threw, after the other tenants' and the log line.
 */
export async function reconcileApp(
  target: ReconcilerTarget = defaultTarget,
  options: Omit<ReconcileOptions, "tenants"> = {},
): Promise<ReconcilerRun> {
  const started = performance.now();
  const log = target.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let examined = 0;
  const repaired: { tenant: string; executionId: string; what: string }[] = [];
  const failed: { tenant: string; error: string }[] = [];
  let firstError: unknown;
  for (const tenant of target.tenants) {
    try {
      const report = await target.runtime.reconcile({ ...options, tenants: [tenant] });
      examined += report.examined;
      for (const r of report.repaired) repaired.push({ tenant, ...r });
      // An execution whose repair threw is reported; the tenant's others were repaired.
      for (const f of report.failed)
        failed.push({ tenant, error: `execution ${f.executionId}: ${f.error}` });
    } catch (error) {
      firstError ??= error;
      failed.push({
        tenant,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }
  const run: ReconcilerRun = {
    tenants: target.tenants,
    examined,
    repaired,
    failed,
    durationMs: Math.round(performance.now() - started),
  };
  log(
    JSON.stringify({
      level: failed.length > 0 ? "error" : "info",
      message: "reconciled",
      app: target.app,
      tenants: run.tenants,
      examined,
      repairedCount: repaired.length,
      repaired: repaired.slice(0, MAX_LOGGED_REPAIRS),
      failed,
      durationMs: run.durationMs,
    }),
  );
  if (failed.length > 0) throw new ReconcilerError(run, firstError);
  return run;
}

export const handler = middy<ScheduledEvent, ReconcilerRun>()
  .use(injectLambdaContext(services.logger))
  .handler(() => reconcileApp());
