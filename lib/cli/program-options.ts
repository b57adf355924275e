/** What the `cascade` program's commands share: option parsers, the API options, the exit codes' help. */
import { type Command, InvalidArgumentError, Option } from "commander";

/** A `--period` or `--percentiles` value, checked with the API's own parser. */
export const checked =
  (parse: (text: string) => unknown) =>
  (value: string): string => {
    try {
      parse(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    return value;
  };

export const formatOption = () =>
  new Option("--format <format>", "output for people (text) or machines (json)")
    .choices(["text", "json"])
    .default("text");

export const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };

export const EXIT_CODES_HELP = `Exit codes: 0 ok, 1 invalid input or request, 2 the execution failed,
3 not found, 4 conflict, 64 bad command line, 69 API unreachable, 70 internal error.`;

/** Options shared by the `process` subcommands. */
export function withApiOptions(command: Command): Command {
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
