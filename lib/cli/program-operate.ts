/** Operating an app: `cascade console`, `cascade metrics …` and `cascade load`. */
import { type Command, InvalidArgumentError, Option } from "commander";
import { parsePercentiles, parsePeriod } from "../core/metrics-query.ts";
import type { ExitCode } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { checked, EXIT_CODES_HELP, integer, withApiOptions } from "./program-options.ts";

/** Adds `console`, `metrics` and `load` to `program`. */
export function addOperateCommands(
  program: Command,
  io: CliIo,
  setExit: (code: ExitCode) => void,
): void {
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
}
