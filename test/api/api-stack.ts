/**
 * The HTTP API on the embedded stack (dynalite + fauxqs) for the API's tests: the real
 * handler behind the local HTTP server, and the calls a client makes to it.
 */
import assert from "node:assert/strict";
import { type ApiHandler, createApiHandler } from "../../lib/api/index.ts";
import { type HttpServer, startHttpServer } from "../../lib/local/http-server.ts";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../lib/local/stack.ts";

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, asserted field by field
export type Answer = { status: number; body: any };

export interface ApiStack {
  readonly stack: LocalStack;
  readonly server: HttpServer;
  readonly handler: ApiHandler;
  /** A JSON call as a client makes it (writes say `application/json`). */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  /** Waits for the execution's end, then GETs it. */
  ended(id: string, timeoutMs?: number): Promise<Answer>;
  /** Every history event of an execution, page after page. */
  history(
    id: string,
  ): Promise<{ type: string; thread: string; state?: string; detail?: Record<string, unknown> }[]>;
  stop(): Promise<void>;
}

/** Starts the stack for `app` (ephemeral, quiet) and the API in front of it. */
export async function startApiStack(
  options: Pick<LocalStackOptions, "workflows" | "activities"> & {
    readonly app: string;
    readonly runtime?: LocalStackOptions["runtime"];
  },
): Promise<ApiStack> {
  const stack = await startLocalStack({
    ephemeral: true,
    ...options,
    runtime: { log: () => {}, ...options.runtime },
  });
  const handler = createApiHandler({
    runtime: stack.runtime,
    store: stack.store,
    payloads: stack.payloads,
    definitions: stack.definitions,
    app: options.app,
    local: true,
  });
  const server = await startHttpServer({ handler, port: 0 });
  const exec = `/v1/apps/${options.app}/executions`;
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: method === "GET" ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  };
  return {
    stack,
    server,
    handler,
    call,
    async ended(id, timeoutMs = 60_000) {
      await stack.waitFor(id, timeoutMs);
      const got = await call("GET", `${exec}/${id}`);
      assert.equal(got.status, 200);
      return got;
    },
    async history(id) {
      const events = [];
      let cursor: string | undefined;
      do {
        const page = await call(
          "GET",
          `${exec}/${id}/history?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        assert.equal(page.status, 200);
        events.push(...page.body.events);
        cursor = page.body.cursor;
      } while (cursor);
      return events;
    },
    async stop() {
      await server.close();
      await stack.stop();
    },
  };
}

/** The answer is the coded error, its message naming `mentions` when given. */
export function expectError(answer: Answer, status: number, code: string, mentions?: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error.code, code);
  if (mentions) assert.match(answer.body.error.message, new RegExp(mentions));
}
