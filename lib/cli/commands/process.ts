/**
 * `cascade process start|get|list|history|cancel|signal` (redrive: redrive.ts): executions over the
 * HTTP API at `--endpoint` (a running `cascade dev` or an API Gateway URL).
 */
import { ApiClient, ApiError, defaultApp, resolveEndpoint, seg } from "../api-client.ts";
import { EXIT, type ExitCode } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { readJsonArgument } from "../json-input.ts";
import { createSigner, type RequestSigner } from "../sigv4.ts";

/** Options every `process` subcommand takes. */
export interface ProcessCommonOptions {
  readonly endpoint?: string;
  readonly app?: string;
  readonly tenant?: string;
  readonly token?: string;
  /** Sign requests with SigV4 using this AWS profile (an API behind `auth: iam`). */
  readonly profile?: string;
  /** The region to sign for (default: the endpoint's). Implies signing. */
  readonly region?: string;
  /** Sign with the default credential chain even without --profile or --region. */
  readonly sigv4?: boolean;
  readonly format: "text" | "json";
}

type Json = Record<string, unknown>;

/** Most executions one `list --all` or `history --all` reads, as a guard against endless paging. */
const MAX_PAGES = 1_000;

/**
 * The client every command that talks to the API uses (process, redrive, metrics, load):
 * the endpoint, tenant, bearer token or SigV4 signer the options name, and the app.
 * @param timeoutMs per request (default the client's, 60 s).
 */
export async function connect(
  options: ProcessCommonOptions,
  io: CliIo,
  timeoutMs?: number,
): Promise<{ client: ApiClient; app: string }> {
  const endpoint = resolveEndpoint(options.endpoint, io);
  const { token, sign } = await credentialsFor(endpoint.url, options, io);
  const client = new ApiClient({
    endpoint: endpoint.url,
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    ...(token === undefined ? {} : { token }),
    ...(sign === undefined ? {} : { sign }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const app = options.app ?? endpoint.app ?? (await defaultApp(client));
  return { client, app };
}

/**
 * What a call to `endpoint` carries: the bearer token (`--token`, else `CASCADE_TOKEN`)
 * and, with `--sigv4`, `--profile` or `--region`, a SigV4 signer.
 */
export async function credentialsFor(
  endpoint: string,
  options: Pick<ProcessCommonOptions, "token" | "profile" | "region" | "sigv4">,
  io: CliIo,
): Promise<{ token?: string; sign?: RequestSigner }> {
  const token = options.token ?? io.env?.CASCADE_TOKEN;
  const { profile, region } = options;
  const sign =
    options.sigv4 || profile !== undefined || region !== undefined
      ? await createSigner({
          endpoint,
          ...(profile === undefined ? {} : { profile }),
          ...(region === undefined ? {} : { region }),
        })
      : undefined;
  return { ...(token === undefined ? {} : { token }), ...(sign === undefined ? {} : { sign }) };
}

const idOf = (body: Json): string => String(body.id ?? body.executionId ?? "");

const when = (value: unknown): string =>
  typeof value === "number"
    ? new Date(value).toISOString()
    : typeof value === "string"
      ? value
      : "";

export function printExecution(body: Json, io: CliIo): void {
  const rows: [string, string][] = [
    ["id", idOf(body)],
    ["workflow", String(body.workflow ?? "")],
    ["status", String(body.status ?? "")],
  ];
  if (body.startedAt !== undefined) rows.push(["started", when(body.startedAt)]);
  if (body.endedAt !== undefined) rows.push(["ended", when(body.endedAt)]);
  if (Array.isArray(body.current) && body.current.length > 0)
    rows.push([
      "current",
      body.current.map((c) => (typeof c === "string" ? c : JSON.stringify(c))).join(", "),
    ]);
  if (body.input !== undefined) rows.push(["input", JSON.stringify(body.input)]);
  if (body.output !== undefined && body.output !== null)
    rows.push(["output", JSON.stringify(body.output)]);
  // Values too large for one API answer: their size, not their text.
  for (const [field, bytes] of Object.entries((body.omitted ?? {}) as Record<string, number>))
    rows.push([field, `not shown: ${bytes} bytes, more than one API answer carries`]);
  if (body.error !== undefined && body.error !== null) {
    const error = body.error as { name?: string; message?: string };
    rows.push(["error", `${error.name ?? ""}: ${error.message ?? ""}`]);
  }
  if (typeof body.redriveOf === "string") rows.push(["redriveOf", body.redriveOf]);
  if (Array.isArray(body.redrives) && body.redrives.length > 0)
    rows.push(["redrives", body.redrives.join(", ")]);
  const cost = costLine(body.cost);
  if (cost) rows.push(["cost", cost]);
  for (const [key, value] of rows) io.stdout(`${key.padEnd(9)} ${value}\n`);
}

/** `cost` of GET execution in one line: dollars, then what they are made of. */
function costLine(cost: unknown): string | undefined {
  if (typeof cost !== "object" || cost === null) return undefined;
  const c = cost as {
    usd?: number;
    dynamodb?: { writeUnits?: number; readUnits?: number };
    sqs?: { requests?: number };
    s3?: { requests?: number };
    lambda?: { invocations?: number; gbSeconds?: number };
  };
  const n = (value: number | undefined, digits = 1) =>
    Number.isInteger(value ?? 0) ? String(value ?? 0) : (value ?? 0).toFixed(digits);
  return `~$${(c.usd ?? 0).toFixed(8)} (estimated at list prices: DynamoDB ${n(c.dynamodb?.writeUnits)} WCU + ${n(c.dynamodb?.readUnits)} RCU, SQS ${n(c.sqs?.requests)} requests, S3 ${n(c.s3?.requests)} requests, Lambda ${n(c.lambda?.invocations, 2)} invocations / ${n(c.lambda?.gbSeconds, 3)} GB-s)`;
}

/**
 * Reads one page of a paged route (`items` or `events`, and `cursor` while there is
 * more), or every page with `all`; returns the cursor of what is left unread.
 */
async function readPages(
  client: ApiClient,
  path: string,
  key: "items" | "events",
  params: URLSearchParams,
  options: { readonly limit?: number; readonly cursor?: string; readonly all: boolean },
): Promise<{ items: Json[]; cursor: string | undefined }> {
  const items: Json[] = [];
  let cursor = options.cursor;
  if (options.limit !== undefined) params.set("limit", String(options.limit));
  for (let page = 0; page < MAX_PAGES; page++) {
    if (cursor) params.set("cursor", cursor);
    const query = params.size > 0 ? `?${params}` : "";
    const { body } = await client.request<Json>("GET", `${path}${query}`);
    items.push(...((body[key] ?? []) as Json[]));
    cursor = typeof body.cursor === "string" ? body.cursor : undefined;
    if (!options.all || !cursor) break;
  }
  return { items, cursor };
}

export const out = (body: unknown, io: CliIo) => io.stdout(`${JSON.stringify(body, null, 2)}\n`);

/** `process start`: exit 0 once started; with `--wait`, 2 when the execution failed. */
export async function runProcessStart(
  options: ProcessCommonOptions & {
    readonly workflow: string;
    readonly input: string;
    readonly id?: string;
    readonly wait?: number;
  },
  io: CliIo,
): Promise<ExitCode> {
  const input = await readJsonArgument(options.input, "--input", io);
  const { client, app } = await connect(options, io);
  const query = options.wait === undefined ? "" : `?wait=${options.wait}`;
  const { status, body } = await client.request<Json>(
    "POST",
    `/v1/apps/${seg(app)}/workflows/${seg(options.workflow)}/executions${query}`,
    { input, ...(options.id === undefined ? {} : { id: options.id }) },
  );
  const ended = typeof body.status === "string" && body.status !== "running";
  if (options.format === "json") out(body, io);
  else if (options.wait !== undefined && ended) printExecution(body, io);
  else {
    io.stdout(`${idOf(body)}\n`);
    io.stderr(
      `${status === 200 && !ended ? "already started" : "started"}: ${options.workflow} execution ${idOf(body)} (cascade process get ${idOf(body)})\n`,
    );
  }
  if (ended && body.status !== "succeeded") return EXIT.EXECUTION_FAILED;
  return EXIT.OK;
}

/** `process get ID`. */
export async function runProcessGet(
  id: string,
  options: ProcessCommonOptions,
  io: CliIo,
): Promise<ExitCode> {
  const { client, app } = await connect(options, io);
  const { body } = await client.request<Json>("GET", `/v1/apps/${seg(app)}/executions/${seg(id)}`);
  if (options.format === "json") out(body, io);
  else printExecution(body, io);
  return EXIT.OK;
}

/** `process list`: one page, or every page with `--all`. */
export async function runProcessList(
  options: ProcessCommonOptions & {
    readonly workflow?: string;
    readonly status?: string;
    readonly limit?: number;
    readonly cursor?: string;
    readonly all: boolean;
  },
  io: CliIo,
): Promise<ExitCode> {
  const { client, app } = await connect(options, io);
  const params = new URLSearchParams();
  if (options.workflow) params.set("workflow", options.workflow);
  if (options.status) params.set("status", options.status);
  const { items, cursor } = await readPages(
    client,
    `/v1/apps/${seg(app)}/executions`,
    "items",
    params,
    options,
  );
  if (options.format === "json") {
    out({ items, ...(cursor && !options.all ? { cursor } : {}) }, io);
    return EXIT.OK;
  }
  if (items.length === 0) io.stdout("no executions\n");
  for (const item of items) {
    io.stdout(
      `${idOf(item).padEnd(38)} ${String(item.workflow ?? "").padEnd(24)} ${String(item.status ?? "").padEnd(10)} ${when(item.startedAt)}\n`,
    );
  }
  if (cursor && !options.all) io.stderr(`more: --cursor ${cursor}\n`);
  return EXIT.OK;
}

/** `process history ID`: one page, or every page with `--all`. */
export async function runProcessHistory(
  id: string,
  options: ProcessCommonOptions & {
    readonly limit?: number;
    readonly cursor?: string;
    readonly all: boolean;
  },
  io: CliIo,
): Promise<ExitCode> {
  const { client, app } = await connect(options, io);
  const { items: events, cursor } = await readPages(
    client,
    `/v1/apps/${seg(app)}/executions/${seg(id)}/history`,
    "events",
    new URLSearchParams(),
    options,
  );
  if (options.format === "json") {
    out({ events, ...(cursor && !options.all ? { cursor } : {}) }, io);
    return EXIT.OK;
  }
  for (const event of events) {
    const error = event.error as { name?: string; message?: string } | undefined;
    io.stdout(
      `${when(event.at).slice(11, 23)} ${String(event.thread ?? "").padEnd(12)} ${String(event.type ?? "").padEnd(20)} ${String(event.state ?? "")}${event.attempt !== undefined ? ` #${String(event.attempt)}` : ""}${error ? ` ${error.name ?? ""}: ${error.message ?? ""}` : ""}\n`,
    );
  }
  if (cursor && !options.all) io.stderr(`more: --cursor ${cursor}\n`);
  return EXIT.OK;
}

/** `process cancel ID`: 4 when the execution has already ended. */
export async function runProcessCancel(
  id: string,
  options: ProcessCommonOptions & { readonly reason?: string },
  io: CliIo,
): Promise<ExitCode> {
  const { client, app } = await connect(options, io);
  const { body } = await client.request<Json>(
    "POST",
    `/v1/apps/${seg(app)}/executions/${seg(id)}/cancel`,
    options.reason === undefined ? {} : { reason: options.reason },
  );
  if (options.format === "json") out(body, io);
  else io.stdout(`cancellation requested: ${id}\n`);
  return EXIT.OK;
}

/** `process signal ID --event NAME [--payload JSON]`: an external event or a callback. */
export async function runProcessSignal(
  id: string,
  options: ProcessCommonOptions & {
    readonly event: string;
    readonly payload?: string;
    readonly eventId?: string;
  },
  io: CliIo,
): Promise<ExitCode> {
  const payload =
    options.payload === undefined ? null : await readJsonArgument(options.payload, "--payload", io);
  const { client, app } = await connect(options, io);
  const { body } = await client.request<Json>(
    "POST",
    `/v1/apps/${seg(app)}/executions/${seg(id)}/events`,
    {
      event: options.event,
      payload,
      ...(options.eventId === undefined ? {} : { id: options.eventId }),
    },
  );
  if (options.format === "json") out(body, io);
  else io.stdout(`event ${options.event} sent to ${id}\n`);
  return EXIT.OK;
}

export { ApiError };
