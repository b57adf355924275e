/**
 * cascade.yaml's `tracing:`: off by default; `exporter: otlp` turns OpenTelemetry on in
 * every function that handles executions (CASCADE_TRACES=otlp, which the functions'
 * bootstrap reads), with `endpoint` as the standard OTEL_EXPORTER_OTLP_ENDPOINT.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import type { Template } from "aws-cdk-lib/assertions";
import { parseAppConfig } from "../../lib/app/config.ts";
import type { AppModel } from "../../lib/infra/model.ts";
import { ENV } from "../../lib/manifest/index.ts";
import { TRACES_ENV } from "../../lib/runtime/tracing-setup.ts";
import { readExample, synthesise, withConfig } from "./synth-support.ts";

let model: AppModel;
let template: Template;

before(async () => {
  model = await readExample();
  ({ template } = synthesise(model));
});

const environments = (t: Template) =>
  Object.fromEntries(
    Object.entries(t.findResources("AWS::Lambda::Function")).map(([id, f]) => [
      id,
      (f.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
    ]),
  );

test("the construct and the runtime name the variable alike", () => {
  assert.equal(ENV.TRACES, TRACES_ENV);
});

test("tracing is off by default: no function exports spans", () => {
  for (const [id, vars] of Object.entries(environments(template)))
    assert.equal(vars[ENV.TRACES], undefined, id);
});

test("tracing.exporter otlp: every function but the reconciler exports to the endpoint", () => {
  const { template: traced } = synthesise(
    withConfig(model, () => ({
      tracing: { exporter: "otlp", endpoint: "https://otel.example.com:4318" },
    })),
  );
  const all = Object.entries(environments(traced));
  const cascade = all.filter(([, vars]) => vars[ENV.APP] !== undefined);
  assert.ok(cascade.length >= 5, `${cascade.length} functions`);
  for (const [id, vars] of cascade) {
    if (id.startsWith("CascadeReconciler")) {
      assert.equal(vars[ENV.TRACES], undefined, "the reconciler handles no execution's hop");
      continue;
    }
    assert.equal(vars[ENV.TRACES], "otlp", id);
    assert.equal(vars.OTEL_EXPORTER_OTLP_ENDPOINT, "https://otel.example.com:4318", id);
  }
  for (const kind of ["Engine", "Api", "DeadLetter", "Worker"])
    assert.ok(
      cascade.some(([id, vars]) => id.startsWith(`Cascade${kind}`) && vars[ENV.TRACES] === "otlp"),
      kind,
    );
});

test("cascade.yaml's tracing block: read, defaulted, and checked", () => {
  const parse = (yaml: string) => parseAppConfig("cascade.yaml", yaml, "/tmp/app");
  assert.deepEqual(parse("name: a\n").config?.tracing, { exporter: "none" });
  assert.deepEqual(parse("name: a\ntracing:\n  exporter: otlp\n").config?.tracing, {
    exporter: "otlp",
  });
  assert.deepEqual(
    parse("name: a\ntracing: { exporter: otlp, endpoint: 'http://127.0.0.1:4318' }\n").config
      ?.tracing,
    { exporter: "otlp", endpoint: "http://127.0.0.1:4318" },
  );
  const bad = parse("name: a\ntracing:\n  exporter: xray\n  endpoint: collector\n  sample: 1\n");
  assert.equal(bad.config, undefined);
  const paths = bad.diagnostics.filter((d) => d.severity === "error").map((d) => d.path);
  for (const path of ["tracing.exporter", "tracing.endpoint", "tracing.sample"])
    assert.ok(
      paths.some((p) => p.startsWith(path)),
      `${path} in ${JSON.stringify(paths)}`,
    );
  // An endpoint without the exporter would export nothing: said, not silently ignored.
  const idle = parse("name: a\ntracing:\n  endpoint: 'http://127.0.0.1:4318'\n");
  assert.ok(idle.config);
  assert.deepEqual(
    idle.diagnostics.map((d) => [d.severity, d.code, d.path]),
    [["warning", "CONFIG_NOT_ON_LAMBDA", "tracing.endpoint"]],
  );
});
