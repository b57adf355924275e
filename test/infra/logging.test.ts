/**
 * The functions' logs: Lambda's JSON log format on every function, and the application
 * log level from cascade.yaml's `logging.level` (Powertools reads it as AWS_LAMBDA_LOG_LEVEL).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { Template } from "aws-cdk-lib/assertions";
import { parseAppConfig } from "../../lib/app/config.ts";
import type { AppModel } from "../../lib/infra/model.ts";
import { readExample, synthesise, withConfig } from "./synth-support.ts";

let model: AppModel;
let template: Template;

before(async () => {
  model = await readExample();
  ({ template } = synthesise(model));
});

const loggingConfigs = (t: Template) =>
  Object.values(t.findResources("AWS::Lambda::Function")).map(
    (f) => f.Properties.LoggingConfig as Record<string, unknown> | undefined,
  );

test("every function logs JSON at level INFO by default", () => {
  const configs = loggingConfigs(template);
  assert.ok(configs.length >= 5, `${configs.length} functions`);
  for (const c of configs) {
    assert.equal(c?.LogFormat, "JSON", JSON.stringify(c));
    assert.equal(c?.ApplicationLogLevel, "INFO", JSON.stringify(c));
  }
});

test("logging.level sets every function's application log level", () => {
  const { template: debug } = synthesise(
    withConfig(model, () => ({ logging: { level: "DEBUG" } })),
  );
  for (const c of loggingConfigs(debug)) {
    assert.equal(c?.LogFormat, "JSON");
    assert.equal(c?.ApplicationLogLevel, "DEBUG");
  }
});

test("cascade.yaml's logging.level: the four levels, lowercase; anything else is rejected", () => {
  const parse = (yaml: string) => parseAppConfig("cascade.yaml", yaml, "/tmp/app");
  assert.equal(parse("name: a\nlogging:\n  level: warn\n").config?.logging.level, "WARN");
  assert.equal(parse("name: a\n").config?.logging.level, "INFO");
  const bad = parse("name: a\nlogging:\n  level: verbose\n  format: text\n");
  assert.equal(bad.config, undefined);
  const text = JSON.stringify(bad);
  assert.match(text, /level/);
  assert.match(text, /format/);
});
