/**
 * The `cascade` program, built by a function so tests can drive it in-process.
 * Exit codes: see `exit-codes.ts`. Commands are imported when they run, so
 * `cascade process get` does not load the emulators.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ActivityLoadError } from "../app/activities.ts";
import { PACKAGE } from "../app/package-root.ts";
import { WorkflowPathError } from "../app/workflows.ts";
import { parsePercentiles, parsePeriod } from "../core/metrics-query.ts";
import { MAX_SYNC_WAIT_SECONDS } from "../manifest/index.ts";
import { ApiError, ApiUnavailableError } from "./api-client.ts";
import { runValidate } from "./commands/validate.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { JsonInputError } from "./json-input.ts";

/** A `--period` or `--percentiles` value, checked with the API's own parser. */
const checked =
  (parse: (text: string) => unknown) =>
  (value: string): string => {
    try {
      parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    return value;
  };

const formatOption = () =>
  new Option("--format <format>", "output for people (text) or machines (json)")
    .choices(["text", "json"])
    .default("text");

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };

const EXIT_CODES_HELP = `Exit codes: 0 ok, 1 invalid input or request, 2 the execution failed,
3 not found, 4 conflict, 64 bad command line, 69 API unreachable, 70 internal error.`;

/** Options shared by the `process` subcommands. */
function withApiOptions(command: Command): Command {
  return command
    .option(
      "--endpoint <url>",
      "the API (default: $CASCADE_ENDPOINT, else the running cascade dev in ./.cascade, else http://127.0.0.1:4000)",
    )
    .option("--app <name>", "the app (default: the only app the endpoint serves)")
    .option(
      "--tenant <name>",
      "the tenant on the local stack (sent as X-Cascade-Tenant; default: default); on AWS your identity names it",
    )
    .option("--token <jwt>", "a bearer token for an API behind JWT auth (default: $CASCADE_TOKEN)")
    .option("--profile <name>", "sign requests with SigV4 as this AWS profile (auth: iam)")
    .option("--region <name>", "the region to sign for (default: the endpoint's); implies SigV4")
    .option("--sigv4", "sign requests with SigV4 with the default AWS credentials (auth: iam)")
    .addOption(formatOption());
}

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

  program
    .command("console")
    .description(
      "Serve a deployed app's web console on this machine, its API calls signed with your credentials.",
    )
    .option("--endpoint <url>", "the deployed API (default: $CASCADE_ENDPOINT)")
    .option("--token <jwt>", "a bearer token for an API behind JWT auth (default: $CASCADE_TOKEN)")
    .option("--profile <name>", "sign the calls with SigV4 as this AWS profile (auth: iam)")
    .option("--region <name>", "the region to sign for (default: the endpoint's); implies SigV4")
    .option("--sigv4", "sign the calls with SigV4 with the default AWS credentials (auth: iam)")
    .addOption(
      new Option("--port <port>", "the console's port on this machine (0: any free port)")
        .default(4100)
        .argParser(integer(0, 65_535)),
    )
    .option("--host <host>", "the address to listen on", "127.0.0.1")
    .addHelpText(
      "after",
      `
A browser cannot sign requests (auth: iam) or add a token to a page (auth: jwt): this
serves the console at http://127.0.0.1:4100/ and forwards its /v1 calls to --endpoint
with the credentials a cascade process command would use. Only pages of this address
may use it (the local server's origin and host checks).

Examples:
  cascade console --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com --profile ops
  cascade console --endpoint https://api.example.com --token "$(get-token)"

${EXIT_CODES_HELP}`,
    )
    .action(async (options) => {
      const { runConsole } = await import("./commands/console.ts");
      setExit(await runConsole(options, io));
    });

  const metrics = program
    .command("metrics")
    .description(
      "Activity and workflow figures over a window: counts, error rate, duration percentiles.",
    );
  const metricsOptions = (command: Command): Command =>
    withApiOptions(
      command
        .addOption(
          new Option(
            "--period <duration>",
            "the window, ending now: 90s, 5m, 24h, 7d (at most 15d)",
          )
            .default("1h")
            .argParser(checked(parsePeriod)),
        )
        .addOption(
          new Option(
            "--percentiles <list>",
            "duration percentiles, comma-separated (default p50,p95,p99)",
          ).argParser(checked(parsePercentiles)),
        ),
    );
  metricsOptions(
    metrics
      .command("activity")
      .description("An activity's attempts, average and percentile durations, and error rate.")
      .argument("<name>", "the activity (as the Task's `activity`)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade metrics activity validate_order --period 24h --format json
  {"name":"validate_order","executions":15234,"avg_duration":"12ms","p50":"8ms","p95":"45ms","p99":"200ms","error_rate":"0.02%"}

Against cascade dev the figures are exact (every sample is kept under .cascade/metrics);
on AWS they are CloudWatch's statistics. Every attempt counts as an execution.
${EXIT_CODES_HELP}`,
    )
    .action(async (name: string, options) => {
      const { runMetricsActivity } = await import("./commands/metrics.ts");
      setExit(await runMetricsActivity(name, options, io));
    });
  metricsOptions(
    metrics
      .command("workflow")
      .description(
        "A workflow's (or every workflow's) starts, ends by outcome, throughput and duration percentiles.",
      )
      .argument("[name]", "the workflow (default: every workflow, and the app's total)"),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade metrics workflow OrderFulfillment --period 1m --percentiles p50,p95,p99
  cascade metrics workflow --period 24h --format json

${EXIT_CODES_HELP}`,
    )
    .action(async (name: string | undefined, options) => {
      const { runMetricsWorkflow } = await import("./commands/metrics.ts");
      setExit(await runMetricsWorkflow(name, options, io));
    });

  withApiOptions(
    program
      .command("load")
      .description(
        "Load-test a workflow: start many executions, then report throughput, latency percentiles and errors.",
      )
      .requiredOption("--workflow <name>", "the workflow")
      .option(
        "--input <json>",
        "the input: JSON, @file.json, or - ({{ i }} in a string becomes 1, 2, 3, ...)",
        "{}",
      )
      .addOption(
        new Option(
          "--count <n>",
          "executions to start (default 100, or unbounded with --duration)",
        ).argParser(integer(1, 10_000_000)),
      )
      .addOption(
        new Option("--concurrency <n>", "executions in flight at once")
          .default(10)
          .argParser(integer(1, 10_000)),
      )
      .addOption(
        new Option("--duration <duration>", "stop starting after this long: 30s, 5m").argParser(
          (value: string) => {
            try {
              return parsePeriod(value);
            } catch (error) {
              throw new InvalidArgumentError((error as Error).message);
            }
          },
        ),
      )
      .addOption(
        new Option("--rate <n/s>", "starts per second at most: 200/s").argParser(
          (value: string) => {
            const n = Number(value.replace(/\/s$/, ""));
            if (!(n > 0) || !Number.isFinite(n))
              throw new InvalidArgumentError("expected starts per second, like 200/s");
            return n;
          },
        ),
      )
      .addOption(
        new Option("--timeout <seconds>", "give up on one execution after this long")
          .default(300)
          .argParser(integer(1)),
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  cascade load --app myapp --workflow TestWorkflow --input '{"test_id":"{{ i }}"}' --count 1000 --concurrency 100
  cascade load --workflow OrderFulfillment --input @order.json --duration 60s --rate 200/s --format json

A progress bar on a terminal; Ctrl-C stops starting and prints what it has.
Start latency is the start request's round trip; end-to-end latency is each
execution's start-to-end duration as the runtime recorded it.
Exit codes: 0 every execution succeeded, 2 some failed, were refused or timed out,
130 interrupted (the partial report is printed), 69 API unreachable, 64 bad arguments.`,
    )
    .action(
      async (options: {
        endpoint?: string;
        app?: string;
        tenant?: string;
        token?: string;
        profile?: string;
        region?: string;
        sigv4?: boolean;
        format: "text" | "json";
        workflow: string;
        input: string;
        count?: number;
        concurrency: number;
        duration?: number;
        rate?: number;
        timeout: number;
      }) => {
        const { runLoad } = await import("./commands/load.ts");
        const { duration, rate, timeout, ...rest } = options;
        setExit(
          await runLoad(
            {
              ...rest,
              timeoutSeconds: timeout,
              ...(duration === undefined ? {} : { durationSeconds: duration }),
              ...(rate === undefined ? {} : { ratePerSecond: rate }),
            },
            io,
          ),
        );
      },
    );

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
