/**
 * `CascadeWorkflows`: the construct a user puts in their own CDK app. It takes the app's
 * folder (`appDir`) and reads it synchronously, as constructs are built; everything else
 * is `CascadeApp`'s (tables, queues, bucket, functions, HTTP API, cache, dashboard,
 * alarms), plus what callers and activities need: grants, metrics, and the activities'
 * permissions, environment and secrets.
 */
import { resolve } from "node:path";
import { Duration } from "aws-cdk-lib";
import { Metric, type MetricOptions } from "aws-cdk-lib/aws-cloudwatch";
import type { IGrantable, PolicyStatement } from "aws-cdk-lib/aws-iam";
import * as iam from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { Construct } from "constructs";
import { reservedEnvName } from "../app/activity-setup.ts";
import { METRICS } from "../manifest/index.ts";
import { CascadeApp, type CascadeAppProps, CascadeInfraError } from "./cascade-app.ts";
import { readAppModelSync } from "./model.ts";
import { checkPlatformRegion } from "./platform-region.ts";

/** Props of {@link CascadeWorkflows}: the app's folder, and CascadeApp's other props. */
export interface CascadeWorkflowsProps extends Omit<CascadeAppProps, "app"> {
  /** The app's folder (cascade.yaml, workflows/, activities/), relative to the current directory or absolute. */
  readonly appDir: string;
  /**
   * Environment variables of every function that runs activities (engine, workers), on
   * top of cascade.yaml's `activities.environment`. Default: none.
   */
  readonly activityEnvironment?: Readonly<Record<string, string>>;
}

/**
 * One Cascade app in your CDK app:
 *
 * ```ts
 * const workflows = new CascadeWorkflows(stack, "Workflows", { appDir: "." });
 * workflows.grantStartExecution(myFunction);
 * workflows.addToActivitiesRolePolicy(new iam.PolicyStatement({ actions: ["ses:SendEmail"], resources: ["*"] }));
 * ```
 */
export class CascadeWorkflows extends CascadeApp {
  /** The app's name (cascade.yaml `name`). */
  readonly appName: string;

  constructor(scope: Construct, id: string, props: CascadeWorkflowsProps) {
    const { appDir, activityEnvironment, ...rest } = props;
    const app = readAppModelSync(resolve(appDir));
    super(scope, id, { ...rest, app });
    checkPlatformRegion(this, app.config);
    this.appName = app.config.name;
    for (const [name, value] of Object.entries(activityEnvironment ?? {}))
      this.addActivityEnvironment(name, value);
  }

  /** The functions that run activities: the engine (inline Tasks) and every worker pool's worker. */
  get activityFunctions(): readonly NodejsFunction[] {
    return [this.engine, ...this.workers.values()];
  }

  /** Adds a statement to the role of every function that runs activities. */
  addToActivitiesRolePolicy(statement: PolicyStatement): void {
    for (const fn of this.activityFunctions) fn.addToRolePolicy(statement);
  }

  /**
   * Sets an environment variable on every function that runs activities.
   * @throws CascadeInfraError (INFRA_RESERVED_ENV) for a name of Lambda's or Cascade's
   * (`AWS_*`, `CASCADE_*`, `_HANDLER`, …), which would fail the deployment or the runtime.
   */
  addActivityEnvironment(name: string, value: string): void {
    const reserved = reservedEnvName(name);
    if (reserved !== undefined)
      throw new CascadeInfraError("INFRA_RESERVED_ENV", `activityEnvironment: ${reserved}`);
    for (const fn of this.activityFunctions) fn.addEnvironment(name, value);
  }

  /** Lets `grantee` start executions of any of the app's workflows over the HTTP API (`auth.type: iam`). */
  grantStartExecution(grantee: IGrantable): iam.Grant {
    return this.#grantApi(grantee, [["POST", `/v1/apps/${this.appName}/workflows/*/executions`]]);
  }

  /** Lets `grantee` read the app, its workflows, executions and histories over the HTTP API. */
  grantRead(grantee: IGrantable): iam.Grant {
    return this.#grantApi(grantee, [
      ["GET", "/v1/apps"],
      ["GET", `/v1/apps/${this.appName}`],
      ["GET", `/v1/apps/${this.appName}/*`],
    ]);
  }

  /** Lets `grantee` send events to executions and cancel them over the HTTP API. */
  grantSignal(grantee: IGrantable): iam.Grant {
    return this.#grantApi(grantee, [
      ["POST", `/v1/apps/${this.appName}/executions/*/events`],
      ["POST", `/v1/apps/${this.appName}/executions/*/cancel`],
    ]);
  }

  #grantApi(grantee: IGrantable, routes: readonly (readonly [string, string])[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["execute-api:Invoke"],
      resourceArns: routes.map(([method, path]) => this.httpApi.arnForExecuteApi(method, path)),
    });
  }

  #metric(
    name: keyof typeof METRICS.emitted,
    dimensions: Record<string, string>,
    options: MetricOptions,
  ): Metric {
    return new Metric({
      namespace: METRICS.namespace,
      metricName: name,
      dimensionsMap: { app: this.appName, ...dimensions },
      period: Duration.minutes(5),
      ...options,
    });
  }

  /** Ended executions of `workflow` that failed (WorkflowOutcome, outcome=failed), summed. */
  metricWorkflowFailed(workflow: string, options: MetricOptions = {}): Metric {
    return this.#metric(
      "WorkflowOutcome",
      { workflow, outcome: "failed" },
      { statistic: "Sum", ...options },
    );
  }

  /** Ended executions of `workflow` that succeeded, summed. */
  metricWorkflowSucceeded(workflow: string, options: MetricOptions = {}): Metric {
    return this.#metric(
      "WorkflowOutcome",
      { workflow, outcome: "succeeded" },
      { statistic: "Sum", ...options },
    );
  }

  /** Started executions of `workflow`, summed. */
  metricWorkflowStarted(workflow: string, options: MetricOptions = {}): Metric {
    return this.#metric("WorkflowStarted", { workflow }, { statistic: "Sum", ...options });
  }

  /** Milliseconds from start to end of `workflow`'s executions (p99 by default). */
  metricWorkflowDuration(workflow: string, options: MetricOptions = {}): Metric {
    return this.#metric("WorkflowDuration", { workflow }, { statistic: "p99", ...options });
  }

  /** Milliseconds one attempt of `activity` in `workflow` ran (p99 by default). */
  metricActivityDuration(workflow: string, activity: string, options: MetricOptions = {}): Metric {
    return this.#metric(
      "ActivityDuration",
      { workflow, activity },
      { statistic: "p99", ...options },
    );
  }

  /** Failed attempts of `activity` in `workflow`, summed. */
  metricActivityErrors(workflow: string, activity: string, options: MetricOptions = {}): Metric {
    return this.#metric("ActivityErrors", { workflow, activity }, { statistic: "Sum", ...options });
  }
}
