/**
 * `cascade synth [app-dir]` and `cascade deploy [app-dir]`: the CDK CLI. In a project
 * with its own `cdk.json` at or above the app (what `cascade init` writes), the
 * project's own CDK app and CLI (`node_modules/.bin/cdk`) run, from the project's root;
 * otherwise Cascade's own `bin/app`, with the app folder passed as the `appDir` context.
 * The app is checked first, so a typo is reported with line and column and nothing
 * reaches CloudFormation; so is its auth: an app that would deploy an API anyone can
 * call (no `auth`, and no `public: true`) exits 1 before the CDK starts.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { APP_CONFIG_FILE } from "../../app/discover.ts";
import { CODE_ROOT, MODULE_EXTENSION } from "../../app/package-root.ts";
import { PROJECT_ROOT } from "../../infra/bundle.ts";
import { deployAuthProblem, OPEN_API_CODE } from "../../infra/deploy-auth.ts";
import { AppModelError, readAppModel } from "../../infra/model.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";

export interface CdkCommandOptions {
  /** Where the cloud assembly goes (default: cdk.out in the project). */
  readonly output?: string;
  /** The CloudFormation stack's name (default: Cascade-<app name>). */
  readonly stackName?: string;
  /** deploy: skip CDK's confirmation of security-sensitive changes. */
  readonly yes?: boolean;
  /** AWS profile to deploy with (default: the SDK's default chain). */
  readonly profile?: string;
}

/** The CDK CLI's arguments for `verb` on the app in `appDir` (exported for tests). */
export function cdkArguments(
  verb: "synth" | "deploy",
  appDir: string,
  options: CdkCommandOptions,
  ownApp = false,
): string[] {
  return [
    verb,
    ...(ownApp
      ? []
      : [
          "--app",
          `${process.execPath} ${join(CODE_ROOT, "bin", `app${MODULE_EXTENSION}`)}`,
          "--context",
          `appDir=${resolve(appDir)}`,
        ]),
    ...(options.stackName ? ["--context", `stackName=${options.stackName}`] : []),
    ...(options.output ? ["--output", resolve(options.output)] : []),
    ...(options.profile ? ["--profile", options.profile] : []),
    ...(verb === "deploy" && options.yes ? ["--require-approval", "never"] : []),
    ...(verb === "synth" ? ["--quiet"] : []),
    "--no-notices",
  ];
}

async function runCdk(
  verb: "synth" | "deploy",
  appDir: string,
  options: CdkCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  const dir = resolve(io.cwd, appDir);
  if (!existsSync(dir)) {
    io.stderr(`cascade: no such app folder: ${appDir}\n`);
    return EXIT.USAGE;
  }
  let model: Awaited<ReturnType<typeof readAppModel>>;
  try {
    model = await readAppModel(dir);
  } catch (error) {
    if (error instanceof AppModelError) {
      io.stderr(`${error.report}\n`);
      return EXIT.INVALID;
    }
    throw error;
  }
  // An app that would deploy an open API stops here, before the CDK bundles anything.
  const refused = deployAuthProblem(model.config);
  if (refused !== undefined) {
    const path = join(dir, APP_CONFIG_FILE);
    const shown = relative(io.cwd, path);
    const file = shown === "" || shown.startsWith("..") ? path : shown;
    io.stderr(`${file}: error ${OPEN_API_CODE} ${refused}\n`);
    return EXIT.INVALID;
  }
  const own = userCdkProject(dir);
  const root = own ?? PROJECT_ROOT;
  const cdk = join(root, "node_modules/.bin/cdk");
  if (!existsSync(cdk)) {
    io.stderr(`cascade: the AWS CDK CLI is missing (${cdk}): npm install --save-dev aws-cdk\n`);
    return EXIT.UNAVAILABLE;
  }
  const env = {
    ...process.env,
    ...io.env,
    // The CDK CLI and esbuild run under this Node (24), whatever `node` is on PATH.
    PATH: `${dirname(process.execPath)}:${join(root, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
  };
  const child = spawn(cdk, cdkArguments(verb, dir, options, own !== undefined), {
    cwd: root,
    env,
    stdio: ["inherit", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => io.stdout(chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => io.stderr(chunk.toString("utf8")));
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
  if (code === 0) return EXIT.OK;
  // The app was valid: what failed is the CDK, esbuild or AWS (their output is above).
  io.stderr(`cascade: cdk ${verb} failed (exit ${code})\n`);
  return EXIT.UNAVAILABLE;
}

/** The user's CDK project around `dir`: the nearest folder at or above it with a cdk.json, outside Cascade's own. */
export function userCdkProject(dir: string): string | undefined {
  let current = resolve(dir);
  for (;;) {
    if (current === resolve(PROJECT_ROOT)) return undefined;
    if (existsSync(join(current, "cdk.json"))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/** `cascade synth`: the CloudFormation template and bundled functions, offline. */
export function runSynth(appDir: string, options: CdkCommandOptions, io: CliIo): Promise<ExitCode> {
  return runCdk("synth", appDir, options, io);
}

/** `cascade deploy`: synthesises and deploys with the AWS credentials of the environment. */
export function runDeploy(
  appDir: string,
  options: CdkCommandOptions,
  io: CliIo,
): Promise<ExitCode> {
  return runCdk("deploy", appDir, options, io);
}
