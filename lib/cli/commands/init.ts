/**
 * `cascade init [dir]`: writes a working app into `dir` (default: the current folder) —
 * cascade.yaml, a workflow, typed activities, a workflow test on the testing kit, the
 * user's own CDK app using the construct, .gitignore, editor schema settings and npm
 * scripts. It never overwrites a file: when any file it would write exists, it writes
 * nothing and says which. An existing package.json gets the scripts and dependencies it
 * lacks (existing entries are kept as they are).
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { PACKAGE } from "../../app/package-root.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

/** The app name a folder gives: lower case, digits and dashes, as cascade.yaml's `name` wants. */
export function appNameFor(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return /^[a-z]/.test(name) ? name : `app-${name || "cascade"}`;
}

/** The files `init` writes, by path relative to the app folder. */
export function initFiles(name: string, pkg = PACKAGE.name): Record<string, string> {
  const schema = (file: string, depth: number) =>
    `# yaml-language-server: $schema=${"../".repeat(depth)}node_modules/${pkg}/schema/${file}`;
  return {
    "cascade.yaml": `${schema("cascade.schema.json", 0)}
# The app: docs/config.md in ${pkg} lists every key.
name: ${name}
workflows: workflows
# What the activities get on AWS (locally: .env), e.g.
#   activities:
#     path: activities
#     environment: { ORDERS_TABLE: orders }
#     secrets: { API_KEY: "secretsmanager:${name}/api-key" }
#     permissions: [{ actions: [ses:SendEmail], resources: ["*"] }]
activities: activities
# On AWS the HTTP API takes SigV4-signed calls only: grant callers in infra/app.ts
# (workflows.grantStartExecution(fn)). cascade dev's local API is open.
auth:
  type: iam
`,
    "workflows/hello.yaml": `${schema("cdl.schema.json", 1)}
# A workflow: greet (retried when the greeter is busy), rest two seconds, succeed.
name: Hello
input_schema:
  type: object
  required: [name]
  properties:
    name: { type: string }
states:
  - name: Greet
    type: Task
    resource: urn:cascade:activity:greet
    timeout: 10s
    retry:
      - errors: [Greeter.Busy]
        max_attempts: 3
        interval: 1s
    result: $.greeting
    next: Rest
  - name: Rest
    type: Wait
    duration: 2s
    next: Done
  - name: Done
    type: Succeed
`,
    "activities/greet.ts": `/**
 * Activities: every function made with defineActivity is one, named by its export.
 * Other exports (helpers, clients built once per process) are not activities.
 */
import { defineActivity, nonRetryable } from "${pkg}";

export interface GreetInput {
  readonly name: string;
}

export interface Greeting {
  readonly message: string;
}

export const greet = defineActivity<GreetInput, Greeting>(async (input, ctx) => {
  if (input.name.trim() === "") throw nonRetryable("Greeter.NoName", "the name is empty");
  ctx.logger.info("greeting", { name: input.name });
  return { message: \`Hello, \${input.name}!\` };
});
`,
    "test/hello.test.ts": `import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestEnv } from "${pkg}/testing";

const appDir = fileURLToPath(new URL("..", import.meta.url));

test("Hello greets, rests on the virtual clock, and succeeds", async () => {
  const env = await createTestEnv({ appDir });
  const run = await env.run("Hello", { name: "Ada" });
  assert.equal(run.status, "succeeded");
  assert.deepEqual(run.output, { name: "Ada", greeting: { message: "Hello, Ada!" } });
  assert.ok(run.elapsedMs >= 2_000, "the Wait took two seconds of the virtual clock, not of yours");
});

test("a busy greeter is retried", async () => {
  const env = await createTestEnv({
    appDir,
    activities: {
      greet: [{ error: { name: "Greeter.Busy" } }, { ok: { message: "Hi!" } }],
    },
  });
  const run = await env.run("Hello", { name: "Ada" });
  assert.equal(run.status, "succeeded");
  assert.deepEqual(
    run.calls.map((c) => c.attempt),
    [1, 2],
  );
  assert.ok(run.history.some((e) => e.type === "RetryScheduled"));
});
`,
    "infra/app.ts": `/**
 * Your CDK app: \`npm run deploy\` (cdk deploy) deploys it. Add your own resources and
 * grant them what they need, e.g. workflows.grantStartExecution(fn).
 */
import { App, Stack } from "aws-cdk-lib";
import { CascadeWorkflows } from "${pkg}/infra";

const app = new App();
const stack = new Stack(app, "${stackName(name)}");
new CascadeWorkflows(stack, "Workflows", { appDir: "." });
app.synth();
`,
    "cdk.json": `${JSON.stringify({ app: "node infra/app.ts", output: "cdk.out" }, null, 2)}\n`,
    ".gitignore": `node_modules/
.cascade/
cdk.out/
# Local environment and secrets of activities (cascade dev reads it): never commit it.
.env
`,
    ".vscode/settings.json": `${JSON.stringify(
      {
        "yaml.schemas": {
          [`./node_modules/${pkg}/schema/cdl.schema.json`]: [
            "workflows/**/*.yaml",
            "workflows/**/*.yml",
          ],
          [`./node_modules/${pkg}/schema/cascade.schema.json`]: ["cascade.yaml"],
        },
      },
      null,
      2,
    )}\n`,
  };
}

function stackName(app: string): string {
  return app
    .split("-")
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
}

/** The scripts and dependencies `init` gives package.json: Cascade, its CDK peers and the CDK CLI. */
export function packageAdditions(pkg = PACKAGE.name, version = PACKAGE.version) {
  const peers = PACKAGE.peerDependencies ?? {};
  const cli = PACKAGE.devDependencies?.["aws-cdk"];
  return {
    devDependencies: cli ? { "aws-cdk": cli } : {},
    scripts: {
      dev: "cascade dev",
      test: 'node --test "test/**/*.test.ts"',
      validate: "cascade validate .",
      deploy: "cdk deploy",
    },
    dependencies: { [pkg]: `^${version}`, ...peers },
  };
}

/** Writes the app. Exit codes: 0 written, 4 a file exists (nothing written), 64 bad folder. */
export async function runInit(dir: string, io: CliIo): Promise<ExitCode> {
  const root = resolve(io.cwd, dir);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    io.stderr(`cascade: ${dir} is not a folder\n`);
    return EXIT.USAGE;
  }
  const name = appNameFor(root);
  const files = initFiles(name);
  const existing = Object.keys(files).filter((file) => existsSync(join(root, file)));
  if (existing.length > 0) {
    io.stderr(
      `cascade: not overwriting ${existing.join(", ")} in ${relative(io.cwd, root) || "."}: nothing was written\n`,
    );
    return EXIT.CONFLICT;
  }
  const packageFile = join(root, "package.json");
  let pkg: Record<string, unknown> = { name, private: true, type: "module" };
  if (existsSync(packageFile)) {
    try {
      pkg = JSON.parse(readFileSync(packageFile, "utf8")) as Record<string, unknown>;
    } catch (error) {
      io.stderr(
        `cascade: ${packageFile} is not JSON (${(error as Error).message}): nothing was written\n`,
      );
      return EXIT.INVALID;
    }
  }
  for (const [file, text] of Object.entries(files)) {
    const target = join(root, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text, { flag: "wx" });
  }
  const additions = packageAdditions();
  const merged = {
    ...pkg,
    type: pkg.type ?? "module",
    scripts: { ...additions.scripts, ...(pkg.scripts as object | undefined) },
    dependencies: { ...additions.dependencies, ...(pkg.dependencies as object | undefined) },
    devDependencies: {
      ...additions.devDependencies,
      ...(pkg.devDependencies as object | undefined),
    },
  };
  writeFileSync(packageFile, `${JSON.stringify(merged, null, 2)}\n`);
  const shown = relative(io.cwd, root) || ".";
  io.stdout(
    `Created the Cascade app '${name}' in ${shown}:\n${Object.keys(files)
      .map((f) => `  ${f}\n`)
      .join("")}  package.json (scripts: dev, test, validate, deploy)\n\nNext:\n${
      shown === "." ? "" : `  cd ${shown}\n`
    }  npm install        # ${PACKAGE.name}, the CDK and its CLI\n  npm run dev        # the app on http://127.0.0.1:4000\n  npm test           # the workflow test, in virtual time\n  npm run deploy     # to AWS, with your credentials\n`,
  );
  return EXIT.OK;
}
