/**
 * `cascade load` against a deployed endpoint's gateway, as a real process: API Gateway
 * cuts a request at its integration timeout (504) or answers 503 when the function is
 * throttled. A cut wait is waited again; any other refusal of a wait counts by its code
 * and leaves that execution unfinished, without stopping the run.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { runCli } from "./cli-process.ts";

test("a wait the gateway cuts (504) is waited again; a refused wait counts by code, the run goes on", async () => {
  const waits = new Map<string, number>();
  const starts: string[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      const url = request.url ?? "";
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (url === "/v1/apps") return reply(200, { apps: [{ name: "shop" }] });
      // Waits are long polls of GET execution; the start is POSTed once, never again.
      const wait = request.method === "GET" && /\/executions\/[^/?]+\?wait=\d+$/.test(url);
      if (!wait) {
        starts.push(`${request.method} ${url}`);
        return reply(202, { id: "x", status: "running" });
      }
      const n = (waits.get(url) ?? 0) + 1;
      waits.set(url, n);
      const total = [...waits.values()].reduce((a, b) => a + b, 0);
      // The first wait is cut by the gateway; the third answers 400; the rest end.
      if (total === 1) return reply(504, { message: "Service Unavailable" });
      if (total === 3) return reply(400, { error: { code: "INVALID_INPUT", message: "no" } });
      return reply(200, { id: "x", status: "succeeded", durationMs: 9 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const result = await runCli([
      "load",
      "--endpoint",
      `http://127.0.0.1:${port}`,
      "--workflow",
      "W",
      "--count",
      "3",
      "--concurrency",
      "1",
      "--format",
      "json",
    ]);
    const report = JSON.parse(result.stdout) as {
      started: number;
      succeeded: number;
      unfinished: number;
      errors: Record<string, number>;
    };
    assert.equal(result.code, 2, result.stderr);
    assert.equal(report.started, 3);
    assert.equal(report.succeeded, 2);
    assert.equal(report.unfinished, 1);
    assert.deepEqual(report.errors, { INVALID_INPUT: 1 });
    assert.deepEqual(starts, Array(3).fill("POST /v1/apps/shop/workflows/W/executions"));
    assert.equal(waits.size, 3, "each execution waited on by its own id");
  } finally {
    server.close();
  }
});
