/** `cascade init`: the files it writes, package.json merged, and never a file overwritten. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { appNameFor } from "../../lib/cli/commands/init.ts";
import { EXIT } from "../../lib/cli/exit-codes.ts";
import { captureIo } from "../../lib/cli/io.ts";
import { main } from "../../lib/cli/program.ts";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";

test("init writes a valid app and npm scripts into a new folder", async () => {
  const root = mkdtempSync(join(tmpdir(), "cascade-init-"));
  const io = captureIo(root);
  assert.equal(await main(["init", "Shop App"], io), EXIT.OK, io.err.join(""));
  const dir = join(root, "Shop App");
  const config = parse(readFileSync(join(dir, "cascade.yaml"), "utf8")) as { name: string };
  assert.equal(config.name, "shop-app");
  const workflow = readFileSync(join(dir, "workflows", "hello.yaml"), "utf8");
  const checked = validateWorkflow("hello.yaml", workflow, { activities: new Set(["greet"]) });
  assert.deepEqual(checked.diagnostics, []);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    type: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  assert.equal(pkg.type, "module");
  assert.equal(pkg.scripts.dev, "cascade dev");
  assert.equal(pkg.scripts.deploy, "cdk deploy");
  assert.ok(pkg.dependencies["cascade-workflows"] && pkg.dependencies["aws-cdk-lib"]);
  assert.ok(pkg.devDependencies["aws-cdk"]);
  const settings = JSON.parse(readFileSync(join(dir, ".vscode", "settings.json"), "utf8")) as {
    "yaml.schemas": Record<string, string[]>;
  };
  assert.deepEqual(Object.values(settings["yaml.schemas"]).flat().sort(), [
    "cascade.yaml",
    "workflows/**/*.yaml",
    "workflows/**/*.yml",
  ]);
  assert.match(readFileSync(join(dir, ".gitignore"), "utf8"), /^\.env$/m);
  assert.match(readFileSync(join(dir, "infra", "app.ts"), "utf8"), /new CascadeWorkflows\(/);
});

test("init keeps an existing package.json's entries and refuses to overwrite any file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cascade-init-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "mine",
      scripts: { test: "vitest" },
      dependencies: { "cascade-workflows": "file:x.tgz" },
    }),
  );
  assert.equal(await main(["init"], captureIo(dir)), EXIT.OK);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    name: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.name, "mine");
  assert.equal(pkg.scripts.test, "vitest", "an existing script is kept");
  assert.equal(pkg.scripts.dev, "cascade dev");
  assert.equal(pkg.dependencies["cascade-workflows"], "file:x.tgz");

  const other = mkdtempSync(join(tmpdir(), "cascade-init-"));
  mkdirSync(join(other, "workflows"));
  writeFileSync(join(other, "workflows", "hello.yaml"), "mine\n");
  const io = captureIo(other);
  assert.equal(await main(["init"], io), EXIT.CONFLICT);
  assert.match(io.err.join(""), /not overwriting workflows\/hello\.yaml/);
  assert.equal(readFileSync(join(other, "workflows", "hello.yaml"), "utf8"), "mine\n");
  assert.ok(!existsSync(join(other, "cascade.yaml")), "nothing written");
});

test("app names from folder names", () => {
  assert.equal(appNameFor("/x/My_Shop"), "my-shop");
  assert.equal(appNameFor("/x/42"), "app-42");
});
