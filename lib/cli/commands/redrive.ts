/** `cascade process redrive ID [--from STATE] [--thread THREAD] [--input JSON] [--id ID]`, over the HTTP API. */
import { seg } from "../api-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { readJsonArgument } from "../json-input.ts";
import { connect, out, type ProcessCommonOptions } from "./process.ts";

/** `process redrive`: prints the new execution's id; exit 0 once it started. */
export async function runProcessRedrive(
  id: string,
  options: ProcessCommonOptions & {
    readonly from?: string;
    readonly thread?: string;
    readonly input?: string;
    readonly id?: string;
  },
  io: CliIo,
): Promise<ExitCode> {
  const input =
    options.input === undefined ? undefined : await readJsonArgument(options.input, "--input", io);
  const { client, app } = await connect(options, io);
  const { status, body } = await client.request<Record<string, unknown>>(
    "POST",
    `/v1/apps/${seg(app)}/executions/${seg(id)}/redrive`,
    {
      ...(options.from === undefined ? {} : { from_state: options.from }),
      ...(options.thread === undefined ? {} : { thread: options.thread }),
      ...(input === undefined ? {} : { input }),
      ...(options.id === undefined ? {} : { id: options.id }),
    },
  );
  const started = String(body.id ?? "");
  if (options.format === "json") out(body, io);
  else {
    io.stdout(`${started}\n`);
    io.stderr(
      `${status === 200 ? "already redriven" : "redriven"}: ${id} as ${started} (cascade process get ${started})\n`,
    );
  }
  return EXIT.OK;
}
