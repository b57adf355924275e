/**
 * The `cascade` program, built by a function so tests can drive it in-process.
 * Exit codes: see `exit-codes.ts`. Commands are imported when they run, so
 * `cascade process get` does not load the emulators.
 */
import { Command, CommanderError, Option } from "commander";
import { ActivityLoadError } from "../app/activities.ts";
import { PACKAGE } from "../app/package-root.ts";
import { WorkflowPathError } from "../app/workflows.ts";
import { ApiError, ApiUnavailableError } from "./api-client.ts";
import { runValidate } from "./commands/validate.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { JsonInputError } from "./json-input.ts";
import { addOperateCommands } from "./program-operate.ts";
import { formatOption, integer } from "./program-options.ts";
import { addProcessCommands } from "./program-process.ts";

/** The version of this checkout or installed package (its package.json). */
const CASCADE_VERSION = PACKAGE.version;

/** Builds the program. `setExit` receives the exit code of whichever command ran. */
export function makeProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const program = new Command("cascade")
    .description("Cascade: serverless workflows. Write CDL, run them locally, deploy them to AWS.")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .version(CASCADE_VERSION, "-V, --version", "print the version")
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("init")
    .description(
      "Write a new app: cascade.yaml, a workflow, activities, a test, a CDK app, editor settings.",
    )
    .argument("[dir]", "the folder to write it in (created when missing)", ".")
    .addHelpText(
      "after",
      `
Examples:
  cascade init my-app
  cascade init            # in the current folder

Never overwrites a file: when one exists, nothing is written.
Exit codes: 0 written, 1 package.json is not JSON, 4 a file exists, 64 not a folder.`,
    )
    .action(async (dir: string) => {
      const { runInit } = await import("./commands/init.ts");
      setExit(await runInit(dir, io));
    });

  program
    .command("validate")
    .description("Check workflow files: every problem at once, with line, column and a hint.")
    .argument("[paths...]", "workflow files or folders to search for .yaml files", [])
    .option(
      "--activities <path>",
      "the app's activities module or folder (default: <app>/activities beside <app>/workflows)",
    )
    .addOption(formatOption())
    .addHelpText(
      "after",
      `
Examples:
  cascade validate examples/
  cascade validate workflows/order.yaml --activities activities/
  cascade validate . --format json

Exit codes: 0 valid (warnings allowed), 1 errors found, 64 bad arguments.`,
    )
    .action(async (paths: string[], options: { activities?: string; format: "text" | "json" }) => {
      setExit(await runValidate(paths, { ...options }, io));
    });

  program
    .command("dev")
    .description(
      "Run the app on this machine: embedded DynamoDB, SQS and S3, the pollers, the HTTP API; reloads on edits.",
    )
    .argument("[app-dir]", "the app folder (with cascade.yaml, workflows/, activities/)", ".")
    .addOption(
      new Option("--port <port>", "the HTTP API's port (0: any free port)")
        .default(4000)
        .argParser(integer(0, 65_535)),
    )
    .addOption(
      new Option(
        "--console-port <port>",
        "the web console's port (default: the API's + 1; 0: any free port)",
      ).argParser(integer(0, 65_535)),
    )
    .option("--no-console", "do not serve the web console")
    .option("--host <host>", "the address to listen on", "127.0.0.1")
    .option("--ephemeral", "in-memory emulators: faster, nothing kept", false)
    .option("--data-dir <path>", "where data is kept (default: <app-dir>/.cascade)")
    .addOption(
      new Option(
        "--concurrency <n>",
        "batches in flight per queue, like Lambda's maximum concurrency (default: autoscaling.engine.max, at most 16)",
      ).argParser(integer(1, 256)),
    )
    .addOption(
      new Option("--log-format <format>", "one readable line per transition, or JSON lines")
        .choices(["text", "json"])
        .default("text"),
    )
    .option("--no-watch", "do not reload workflows and activities when their files change")
    .option("--demo", "start a handful of example executions and report their ends", false)
    .addHelpText(
      "after",
      `
Examples:
  cascade dev                              # the API on http://127.0.0.1:4000, the console on :4001
  cascade dev examples/order-processing --demo
  cascade dev my-app --port 4100 --ephemeral --log-format json

Stops cleanly on Ctrl-C (SIGINT) or SIGTERM; after a crash or kill -9, start it
again on the same data and every running execution resumes.
Exit codes: 0 stopped cleanly, 1 the app has errors (nothing started),
65 the data folder is from another version of Cascade (move or delete it, or
use --ephemeral), 69 the port or the data folder is taken.`,
    )
    .action(
      async (
        appDir: string,
        options: {
          port: number;
          consolePort?: number;
          console: boolean;
          host: string;
          ephemeral: boolean;
          dataDir?: string;
          concurrency?: number;
          logFormat: "text" | "json";
          watch: boolean;
          demo: boolean;
        },
      ) => {
        const { runDev } = await import("./commands/dev.ts");
        setExit(await runDev(appDir, options, io));
      },
    );

  program
    .command("run")
    .description("Run one execution of a workflow file to its end and print its output.")
    .argument("<file>", "the workflow (.yaml)")
    .option("--input <json>", "the input: JSON, @file.json, or - for standard input", "{}")
    .option(
      "--activities <path>",
      "activities module or folder (default: <app>/activities beside <app>/workflows)",
    )
    .option("--id <id>", "the execution's id (default: a new UUID)")
    .addOption(
      new Option("--timeout <seconds>", "give up (and cancel) after this long")
        .default(300)
        .argParser(integer(1)),
    )
    .option(
      "--endpoint <url>",
      "run on this API (the workflow must be deployed there) instead of an embedded in-memory stack",
    )
    .option("--app <name>", "with --endpoint: the app")
    .option("--tenant <name>", "the tenant (default: default)")
    .option(
      "--event <name=json>",
      "send this external event once started (repeatable; JSON, @file.json or -)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--verbose", "print each transition to standard error", false)
    .addOption(formatOption())
    .addHelpText(
      "after",
      `
Examples:
  cascade run examples/order-processing/workflows/order-fulfillment.yaml \\
    --input '{"customer_id":"c1","cart_items":[{"id":"p1","quantity":2}]}'
  cascade run workflow.yaml --input @order.json --activities ./activities --format json
  echo '{"n":1}' | cascade run workflow.yaml --input -
  cascade run examples/order-processing/workflows/async-queueing.yaml --input @order.json \
    --event 'shipped={"carrier":"ACME"}'

With --format json prints one object {id, status, output, error}.
Exit codes: 0 succeeded, 2 failed, cancelled or timed out, 1 invalid workflow or input,
64 bad arguments or missing file.`,
    )
    .action(
      async (
        file: string,
        options: {
          input: string;
          activities?: string;
          id?: string;
          timeout: number;
          endpoint?: string;
          app?: string;
          tenant?: string;
          verbose: boolean;
          event?: string[];
          format: "text" | "json";
        },
      ) => {
        const { runRun } = await import("./commands/run.ts");
        setExit(await runRun(file, options, io));
      },
    );

  for (const verb of ["synth", "deploy"] as const) {
    program
      .command(verb)
      .description(
        verb === "synth"
          ? "Write the app's CloudFormation template and bundled functions to cdk.out (offline)."
          : "Deploy the app to AWS with the CDK (Lambda, SQS, DynamoDB, S3, HTTP API).",
      )
      .argument("[app-dir]", "the app folder (with cascade.yaml, workflows/, activities/)", ".")
      .option("--output <dir>", "where the cloud assembly goes (default: cdk.out)")
      .option("--stack-name <name>", "the CloudFormation stack (default: Cascade-<app name>)")
      .option("--profile <name>", "the AWS profile to use")
      .option("--yes", "deploy: do not ask before security-sensitive changes", false)
      .addHelpText(
        "after",
        `
Examples:
  cascade ${verb} examples/order-processing
  cascade ${verb} my-app --stack-name my-app-staging

Exit codes: 0 done, 1 the app has errors (nothing synthesised), 64 no such app folder, 69 the CDK or AWS failed.`,
      )
      .action(
        async (
          appDir: string,
          options: { output?: string; stackName?: string; profile?: string; yes: boolean },
        ) => {
          const { runDeploy, runSynth } = await import("./commands/deploy.ts");
          setExit(await (verb === "synth" ? runSynth : runDeploy)(appDir, options, io));
        },
      );
  }

  addProcessCommands(program, io, setExit);
  addOperateCommands(program, io, setExit);

  return program;
}

/** Runs the program on `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let code: ExitCode = EXIT.OK;
  const program = makeProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (error instanceof WorkflowPathError) {
      io.stderr(`cascade: ${error.message}\n`);
      return EXIT.USAGE;
    }
    if (error instanceof ActivityLoadError) {
      io.stderr(`cascade: ${error.message}\n`);
      return EXIT.INVALID;
    }
    if (error instanceof JsonInputError) {
      io.stderr(`cascade: ${error.message}\n`);
      return error.kind === "missing" ? EXIT.USAGE : EXIT.INVALID;
    }
    if (error instanceof ApiUnavailableError) {
      io.stderr(`cascade: ${error.message}\n`);
      return EXIT.UNAVAILABLE;
    }
    if (error instanceof ApiError) {
      io.stderr(`cascade: ${error.code}: ${error.message}\n`);
      const problems =
        (error.body as { error?: { problems?: unknown[] }; problems?: unknown[] })?.error
          ?.problems ?? (error.body as { problems?: unknown[] })?.problems;
      if (Array.isArray(problems))
        for (const p of problems) io.stderr(`  ${typeof p === "string" ? p : JSON.stringify(p)}\n`);
      return error.exitCode;
    }
    io.stderr(`cascade: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.INTERNAL;
  }
}
