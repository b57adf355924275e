/** `cascade process …`: executions over the HTTP API (start, get, list, history, cancel, signal, redrive). */
import { type Command, Option } from "commander";
import { MAX_SYNC_WAIT_SECONDS } from "../manifest/index.ts";
import type { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { EXIT_CODES_HELP, integer, withApiOptions } from "./program-options.ts";

/** Adds the `process` command group to `program`. */
export function addProcessCommands(
  program: Command,
  io: CliIo,
  setExit: (code: ExitCode) => void,
): void {
  const process = program
    .command("process")
    .description("Start, inspect, list, cancel, signal and redrive executions over the HTTP API.")
    .addHelpText(
      "after",
      `
Examples:
  cascade process start --app myapp --workflow TestWorkflow --input '{"test_id":"1"}'
  cascade process get 3f1c... --format json
  cascade process list --workflow OrderFulfillment --status running --limit 20
  cascade process history 3f1c... --all
  cascade process signal 3f1c... --event shipped --payload '{"tracking":"T1"}'
  cascade process cancel 3f1c... --reason "duplicate order"
  cascade process redrive 3f1c... --from ChargeCard --input '{"amount":50}'

${EXIT_CODES_HELP}`,
    );

  withApiOptions(
    process
      .command("start")
      .description("Start an execution; prints its id (or, with --wait, its result).")
      .requiredOption("--workflow <name>", "the workflow")
      .option("--input <json>", "the input: JSON, @file.json, or - for standard input", "{}")
      .option("--id <id>", "the execution's id: starting twice with one id starts once")
      .addOption(
        new Option(
          "--wait <seconds>",
          `wait up to this long (at most ${MAX_SYNC_WAIT_SECONDS}) for the output`,
        ).argParser(integer(0, MAX_SYNC_WAIT_SECONDS)),
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process start --app myapp --workflow TestWorkflow --input '{"test_id":"1"}'
  cascade process start --workflow OrderFulfillment --input @order.json --id order-42
  cascade process start --workflow OrderFulfillment --input - --wait 10 < order.json

${EXIT_CODES_HELP}`,
    )
    .action(async (options) => {
      const { runProcessStart } = await import("./commands/process.ts");
      setExit(await runProcessStart(options, io));
    });

  withApiOptions(
    process
      .command("get")
      .description("Show one execution.")
      .argument("<id>", "the execution's id"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process get order-42
  cascade process get order-42 --format json | jq .output

${EXIT_CODES_HELP}`,
    )
    .action(async (id: string, options) => {
      const { runProcessGet } = await import("./commands/process.ts");
      setExit(await runProcessGet(id, options, io));
    });

  withApiOptions(
    process
      .command("list")
      .description("List executions, newest first, a page at a time.")
      .option("--workflow <name>", "only this workflow's")
      .addOption(
        new Option("--status <status>", "only those with this status").choices([
          "running",
          "succeeded",
          "failed",
          "cancelled",
        ]),
      )
      .addOption(new Option("--limit <n>", "per page").argParser(integer(1, 1000)))
      .option("--cursor <cursor>", "the page after the one that printed this cursor")
      .option("--all", "follow the cursors to the last page", false),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process list
  cascade process list --workflow OrderFulfillment --status failed --limit 10
  cascade process list --all --format json

${EXIT_CODES_HELP}`,
    )
    .action(async (options) => {
      const { runProcessList } = await import("./commands/process.ts");
      setExit(await runProcessList(options, io));
    });

  withApiOptions(
    process
      .command("history")
      .description("Show an execution's history, oldest first, a page at a time.")
      .argument("<id>", "the execution's id")
      .addOption(new Option("--limit <n>", "events per page").argParser(integer(1, 1000)))
      .option("--cursor <cursor>", "the page after the one that printed this cursor")
      .option("--all", "follow the cursors to the last page", false),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process history order-42 --all
  cascade process history order-42 --limit 50 --format json

${EXIT_CODES_HELP}`,
    )
    .action(async (id: string, options) => {
      const { runProcessHistory } = await import("./commands/process.ts");
      setExit(await runProcessHistory(id, options, io));
    });

  withApiOptions(
    process
      .command("cancel")
      .description("Ask a running execution to stop.")
      .argument("<id>", "the execution's id")
      .option("--reason <text>", "recorded in the execution's error"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process cancel order-42 --reason "customer called"

${EXIT_CODES_HELP}`,
    )
    .action(async (id: string, options) => {
      const { runProcessCancel } = await import("./commands/process.ts");
      setExit(await runProcessCancel(id, options, io));
    });

  withApiOptions(
    process
      .command("signal")
      .description("Send an external event (or a callback's result) to an execution.")
      .argument("<id>", "the execution's id")
      .requiredOption("--event <name>", "the event's name (a WaitForEvent state's `event`)")
      .option("--payload <json>", "the event's payload: JSON, @file.json, or - for standard input")
      .option("--event-id <id>", "deduplicates retries of the same event"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process signal order-42 --event shipped --payload '{"carrier":"ACME"}'
  cascade process signal order-42 --event approved --payload @approval.json

${EXIT_CODES_HELP}`,
    )
    .action(async (id: string, options) => {
      const { runProcessSignal } = await import("./commands/process.ts");
      setExit(await runProcessSignal(id, options, io));
    });

  withApiOptions(
    process
      .command("redrive")
      .description(
        "Run an ended execution again from a state it entered, as a new execution linked to it.",
      )
      .argument("<id>", "the execution's id")
      .option(
        "--from <state>",
        "a state it entered, at any depth (default: the state it failed in)",
      )
      .option(
        "--thread <thread>",
        "for a state inside a Parallel branch or Map item: the thread that entered it (root/<state>@<step>[<index>]…, as history names it)",
      )
      .option(
        "--input <json>",
        "the data to enter that state with (default: the recorded data): JSON, @file.json, or -",
      )
      .option("--id <id>", "the new execution's id (retries with the same id start it once)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade process redrive order-42
  cascade process redrive order-42 --from ChargeCard --input '{"amount":50}'
  cascade process redrive order-42 --from CheckStock --thread 'root/EachItem@3[7]'

${EXIT_CODES_HELP}`,
    )
    .action(async (id: string, options) => {
      const { runProcessRedrive } = await import("./commands/redrive.ts");
      setExit(await runProcessRedrive(id, options, io));
    });
}
