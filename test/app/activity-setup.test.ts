/** cascade.yaml's `activities:` block: both forms, every problem with its place, secrets checked where the app runs locally. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseSecretRef } from "../../lib/app/activity-setup.ts";
import { parseAppConfig } from "../../lib/app/config.ts";
import { prepareLocalEnvironment } from "../../lib/app/env-file.ts";

const DIR = mkdtempSync(join(tmpdir(), "cascade-shop-"));
mkdirSync(join(DIR, "acts"));
mkdirSync(join(DIR, "lib", "acts"), { recursive: true });
const parse = (text: string, secretsFrom?: Record<string, string | undefined>) =>
  parseAppConfig("cascade.yaml", text, DIR, secretsFrom ? { secretsFrom } : {});
const problems = (text: string, secretsFrom?: Record<string, string | undefined>) =>
  parse(text, secretsFrom)
    .diagnostics.filter((d) => d.severity === "error")
    .map((d) => `${d.line}:${d.column} ${d.code}`);

test("the string form is still the activities' path, with nothing granted", () => {
  const { config } = parse("activities: lib/acts\n");
  assert.equal(config?.activities, join(DIR, "lib", "acts"));
  assert.deepEqual(config?.activitySetup, { environment: {}, secrets: {}, permissions: [] });
});

test("the block gives the path, environment (as text), secrets and IAM statements", () => {
  const { config, diagnostics } = parse(`activities:
  path: acts
  environment:
    ORDERS_TABLE: orders
    PORT: 5432
    VERBOSE: true
  secrets:
    STRIPE_KEY: secretsmanager:prod/stripe
    DB_PASSWORD: secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf#password
    API_TOKEN: ssm:/shop/api-token
  permissions:
    - actions: [ses:SendEmail]
      resources: ["*"]
    - effect: Deny
      actions: ["s3:Delete*"]
      resources: ["arn:aws:s3:::shop-data/*"]
`);
  assert.deepEqual(diagnostics, []);
  assert.equal(config?.activities, join(DIR, "acts"));
  assert.deepEqual(config?.activitySetup.environment, {
    ORDERS_TABLE: "orders",
    PORT: "5432",
    VERBOSE: "true",
  });
  assert.deepEqual(config?.activitySetup.secrets, {
    STRIPE_KEY: { source: "secretsmanager", id: "prod/stripe" },
    DB_PASSWORD: {
      source: "secretsmanager",
      id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
      jsonKey: "password",
    },
    API_TOKEN: { source: "ssm", id: "/shop/api-token" },
  });
  assert.deepEqual(config?.activitySetup.permissions, [
    { effect: "Allow", actions: ["ses:SendEmail"], resources: ["*"] },
    { effect: "Deny", actions: ["s3:Delete*"], resources: ["arn:aws:s3:::shop-data/*"] },
  ]);
});

test("every problem of the block is reported at once, with line and column", () => {
  const text = `activities:
  enviroment: {}
  environment:
    AWS_REGION: eu-west-1
    1BAD: x
    NESTED: { a: 1 }
    SHARED: a
  secrets:
    SHARED: secretsmanager:x
    VAULT: vault:kv/x
  permissions:
    - actions: []
      resources: ["*"]
    - actions: [SendEmail]
    - actions: [ses:SendEmail]
      resources: [my-bucket]
`;
  const found = problems(text);
  // Structure first: an unknown key, a value that is not text, a reference of no known store, IAM shapes.
  assert.deepEqual(found, [
    "2:3 CONFIG_UNKNOWN_KEY",
    "6:13 CONFIG_TYPE",
    "10:12 CONFIG_INVALID_VALUE",
    "12:16 CONFIG_INVALID_VALUE",
    "14:7 CONFIG_REQUIRED",
    "14:17 CONFIG_INVALID_VALUE",
    "16:19 CONFIG_INVALID_VALUE",
  ]);
  const unknown = parse(text).diagnostics.find((d) => d.code === "CONFIG_UNKNOWN_KEY");
  assert.match(unknown?.message ?? "", /did you mean `environment`/);
  // Once the structure is right, the names: Lambda's own, not a name, both a value and a secret.
  const names = problems(`activities:
  environment:
    AWS_REGION: eu-west-1
    1BAD: x
    CASCADE_TABLE: t
    SHARED: a
  secrets:
    SHARED: secretsmanager:x
    _HANDLER: ssm:/x
`);
  assert.deepEqual(names, [
    "3:17 CONFIG_ENV_NAME",
    "4:11 CONFIG_ENV_NAME",
    "5:20 CONFIG_ENV_NAME",
    "8:13 CONFIG_ENV_NAME",
    "9:15 CONFIG_ENV_NAME",
  ]);
});

test("the variables must fit Lambda's 4 KB with room for Cascade's own", () => {
  const found = problems(`activities:\n  environment:\n    BIG: "${"x".repeat(3_000)}"\n`);
  assert.deepEqual(found, ["3:5 CONFIG_LIMIT"]);
  assert.match(
    parse(`activities:\n  environment:\n    BIG: "${"x".repeat(3_000)}"\n`).diagnostics[0]
      ?.message ?? "",
    /3003 bytes.*4096/,
  );
});

test("where the app runs locally, a secret that is not set is an error at its line", () => {
  const text = `name: shop
activities:
  secrets:
    STRIPE_KEY: secretsmanager:prod/stripe
    API_TOKEN: ssm:/shop/api-token
`;
  assert.deepEqual(problems(text), []);
  assert.deepEqual(problems(text, { STRIPE_KEY: "sk_test" }), ["5:16 CONFIG_SECRET_MISSING"]);
  const missing = parse(text, {}).diagnostics.map((d) => d.message);
  assert.equal(missing.length, 2);
  assert.match(missing[1] ?? "", /API_TOKEN is not set here: add API_TOKEN=… to the app's \.env/);
  assert.match(missing[1] ?? "", /ssm:\/shop\/api-token/);
});

test("cascade dev's preparation reads .env first, so a secret there is set", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cascade-secrets-"));
  await writeFile(
    join(dir, "cascade.yaml"),
    "activities:\n  secrets:\n    STRIPE_KEY: secretsmanager:prod/stripe\n    API_TOKEN: ssm:/t\n",
  );
  await writeFile(join(dir, ".env"), "STRIPE_KEY=sk_test_1\n");
  const env: Record<string, string | undefined> = {};
  const first = await prepareLocalEnvironment(dir, "cascade.yaml", env);
  assert.deepEqual(first.fromEnvFile, ["STRIPE_KEY"]);
  assert.deepEqual(
    first.missing.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`),
    ["cascade.yaml:4:16 CONFIG_SECRET_MISSING"],
  );
  env.API_TOKEN = "from the shell";
  assert.deepEqual((await prepareLocalEnvironment(dir, "cascade.yaml", env)).missing, []);
  assert.equal(env.STRIPE_KEY, "sk_test_1");
});

test("secret references: the two stores, a JSON key, nothing else", () => {
  assert.deepEqual(parseSecretRef("secretsmanager:a/b#k"), {
    source: "secretsmanager",
    id: "a/b",
    jsonKey: "k",
  });
  assert.deepEqual(parseSecretRef("ssm:name"), { source: "ssm", id: "name" });
  for (const bad of [
    "secretsmanager:",
    "secretsmanager:a#",
    "secretsmanager:a#b#c",
    "ssm:",
    "env:X",
  ])
    assert.equal(parseSecretRef(bad), undefined, bad);
});
