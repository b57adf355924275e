/** Shared by the infra tests: the example app read once, stacks synthesised without bundling. */
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import type { AppConfig } from "../../lib/app/config.ts";
import { PROJECT_ROOT } from "../../lib/infra/bundle.ts";
import { CascadeStack } from "../../lib/infra/cascade-stack.ts";
import { type AppModel, readAppModel } from "../../lib/infra/model.ts";

export const EXAMPLE_DIR = join(PROJECT_ROOT, "examples/order-processing");

export function readExample(): Promise<AppModel> {
  return readAppModel(EXAMPLE_DIR);
}

/** A model with some settings replaced (the config is already validated, so this stays in range). */
export function withConfig(
  model: AppModel,
  change: (c: AppConfig) => Partial<AppConfig>,
): AppModel {
  return { ...model, config: { ...model.config, ...change(model.config) } };
}

/**
 * Synthesises a stack for `model` with the AwsSolutions pack applied, without running
 * esbuild (the bundles are tested by synth.test.ts). Returns the template and the
 * unsuppressed cdk-nag errors and warnings.
 */
export function synthesise(model: AppModel): { template: Template; nag: string[] } {
  const checked = build(model, true);
  let nag: string[] = [];
  try {
    checked.app.synth();
    return { template: Template.fromStack(checked.stack), nag };
  } catch (error) {
    nag = [(error as Error).message];
  }
  // The findings fail the nag test; the other tests still get a template to assert on.
  return { template: Template.fromStack(build(model, false).stack), nag };
}

function build(model: AppModel, withNag: boolean): { app: App; stack: CascadeStack } {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new CascadeStack(app, "Test", {
    app: model,
    skipAppStaging: true,
  });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
