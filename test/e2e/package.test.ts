/**
 * Cascade in a user's own project, as a user gets it: `npm pack`, then in a temporary
 * folder outside the repository install the tarball, `cascade init`, `npm install` (the
 * CDK CLI it adds), `cascade validate`, `cascade run`, `cascade dev` answering over HTTP,
 * the generated test passing (`npm test`), and `cdk synth` of the generated CDK app —
 * every step a process. Installs come from the npm cache when they can
 * (`--prefer-offline`); nothing but the npm registry is reached.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../lib/infra/bundle.ts";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "cascade-package-e2e-"));
const appDir = join(work, "my-app");
let tarball = "";

// As a user's shell: this Node (24) first on PATH, then the project's own bins; none of
// the npm_* variables of the `npm test` that runs this file, nor node:test's own marker
// (with it, the generated test would report to this runner instead of printing).
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.toLowerCase().startsWith("npm_") && key !== "NODE_TEST_CONTEXT",
  ),
);
env.PATH = `${dirname(process.execPath)}:${join(appDir, "node_modules/.bin")}:${process.env.PATH ?? ""}`;
env.CI = "true";

const sh = (file: string, args: readonly string[], cwd = appDir, timeout = 300_000) =>
  run(file, [...args], { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 });
const npm = (args: readonly string[], cwd = appDir) =>
  sh("npm", [...args, "--prefer-offline", "--no-audit", "--no-fund"], cwd);
const cascade = (args: readonly string[]) => sh(join(appDir, "node_modules/.bin/cascade"), args);

before(async () => {
  const packed = await sh("npm", ["pack", "--json", "--pack-destination", work], PROJECT_ROOT);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(info);
  tarball = join(work, info.filename);
  const paths = info.files.map((f) => f.path);
  assert.ok(!paths.some((p) => p.startsWith("test/") || /\.test\.(js|ts)$/.test(p)), "no tests");
  assert.ok(paths.includes("dist/bin/cascade.js") && paths.includes("LICENSE"));
  // The console ships built (prepack runs `npm run build`): an installed package bundles nothing.
  for (const file of ["index.html", "app.js", "app.css"])
    assert.ok(paths.includes(`dist/console/${file}`), `dist/console/${file}`);
  mkdirSync(appDir);
  writeFileSync(
    join(appDir, "package.json"),
    `${JSON.stringify({ name: "my-app", private: true, type: "module" }, null, 2)}\n`,
  );
  await npm(["install", tarball]);
  const init = await cascade(["init"]);
  assert.match(init.stdout, /Created the Cascade app 'my-app'/);
  await npm(["install"]);
});

after(() => rmSync(work, { recursive: true, force: true }));

test("the tarball holds compiled JS with types, and the bin checks Node first", () => {
  const installed = join(appDir, "node_modules/cascade-workflows");
  const pkg = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
    exports: Record<string, unknown>;
    peerDependencies: Record<string, string>;
  };
  assert.deepEqual(Object.keys(pkg.exports).sort(), [
    ".",
    "./infra",
    "./package.json",
    "./schema/*",
    "./testing",
  ]);
  assert.ok(pkg.peerDependencies["aws-cdk-lib"] && pkg.peerDependencies.constructs);
  for (const entry of ["lib/index", "lib/infra/index", "lib/testing/index"]) {
    assert.ok(existsSync(join(installed, "dist", `${entry}.js`)), entry);
    assert.ok(existsSync(join(installed, "dist", `${entry}.d.ts`)), entry);
  }
  assert.ok(!existsSync(join(installed, "dist/lib/cli/program.ts")), "no TypeScript sources");
  const bin = readFileSync(join(installed, "dist/bin/cascade.js"), "utf8");
  assert.match(bin, /^#!\/usr\/bin\/env node/);
  assert.match(bin, /Node\.js \$\{MIN_NODE_MAJOR\} or later is required/);
});

test("init wrote the app, and refuses to write over it", async () => {
  for (const file of [
    "cascade.yaml",
    "workflows/hello.yaml",
    "activities/greet.ts",
    "test/hello.test.ts",
    "infra/app.ts",
    "cdk.json",
    ".gitignore",
    ".vscode/settings.json",
  ])
    assert.ok(existsSync(join(appDir, file)), file);
  const pkg = JSON.parse(readFileSync(join(appDir, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  assert.deepEqual(Object.keys(pkg.scripts).sort(), ["deploy", "dev", "test", "validate"]);
  const again = await cascade(["init"]).then(
    () => assert.fail("a second init must fail"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(again.code, 4);
  assert.match(again.stderr, /not overwriting cascade\.yaml/);
});

test("cascade validate and cascade run on the generated app", async () => {
  const valid = await cascade(["validate", "."]);
  assert.match(valid.stdout, /ok\s+workflows\/hello\.yaml/);
  const ran = await cascade([
    "run",
    "workflows/hello.yaml",
    "--input",
    '{"name":"Ada"}',
    "--format",
    "json",
  ]);
  assert.deepEqual(JSON.parse(ran.stdout).output ?? JSON.parse(ran.stdout), {
    name: "Ada",
    greeting: { message: "Hello, Ada!" },
  });
});

test("cascade dev answers over HTTP", async () => {
  const dev: ChildProcess = spawn(
    join(appDir, "node_modules/.bin/cascade"),
    ["dev", "--port", "0", "--ephemeral", "--no-watch"],
    { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in 60s:\n${out}`)), 60_000);
      const read = (chunk: Buffer) => {
        out += chunk.toString("utf8");
        const found = /API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
        if (found?.[1]) {
          clearTimeout(timer);
          resolve(found[1]);
        }
      };
      dev.stdout?.on("data", read);
      dev.stderr?.on("data", read);
      dev.once("exit", (code) => reject(new Error(`cascade dev exited ${code}:\n${out}`)));
    });
    const apps = (await (await fetch(`${url}/apps`)).json()) as {
      apps: { name: string; workflows: string[] }[];
    };
    assert.deepEqual(
      apps.apps.map((a) => [a.name, a.workflows]),
      [["my-app", ["Hello"]]],
    );
    const started = await fetch(`${url}/apps/my-app/workflows/Hello/executions?wait=20`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { name: "Grace" } }),
    });
    const body = (await started.json()) as { status?: string; output?: unknown };
    assert.equal(body.status, "succeeded", JSON.stringify(body));
  } finally {
    dev.kill("SIGINT");
    await new Promise((resolve) => dev.once("exit", resolve));
  }
});

test("the generated workflow test passes (npm test, on the testing kit)", async () => {
  const tested = await sh("npm", ["test"]);
  assert.match(tested.stdout, /# pass 2|ℹ pass 2/);
});

test("cdk synth of the generated CDK app bundles the app into the functions", async () => {
  await sh(join(appDir, "node_modules/.bin/cdk"), ["synth", "--quiet", "--no-notices"]);
  const out = join(appDir, "cdk.out");
  const template = JSON.parse(readFileSync(join(out, "MyApp.template.json"), "utf8")) as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  };
  const functions = Object.values(template.Resources).filter(
    (r) => r.Type === "AWS::Lambda::Function",
  );
  assert.ok(functions.length >= 4, `functions: ${functions.length}`);
  const assets = readdirSync(out).filter((d) => d.startsWith("asset."));
  const staged = assets.filter((a) => existsSync(join(out, a, "app/workflows/hello.yaml")));
  assert.ok(staged.length >= 4, "every function carries the app");
  const first = staged[0];
  assert.ok(first && existsSync(join(out, first, "app/activities/greet.mjs")));
});
