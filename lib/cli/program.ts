/**
 * The `cascade` program, built by a function so tests can drive it in-process.
 * Exit codes: see `exit-codes.ts`.
 */
import { Command, CommanderError, Option } from "commander";
import { ActivityLoadError } from "../app/activities.ts";
import { WorkflowPathError } from "../app/workflows.ts";
import { runValidate } from "./commands/validate.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";

const formatOption = () =>
  new Option("--format <format>", "output for people (text) or machines (json)")
    .choices(["text", "json"])
    .default("text");

/** Builds the program. `setExit` receives the exit code of whichever command ran. */
export function makeProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const program = new Command("cascade")
    .description("Cascade: serverless workflows. Write CDL, run them locally, deploy them to AWS.")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)");

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
    io.stderr(`cascade: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.INTERNAL;
  }
}
