/**
 * Golden tests: each folder under test/fixtures/workflows/ holds a workflow (or
 * names an example's), an input, scripted activity outcomes and external events
 * (script.json), and the expected outcome and history (expected.json). The test
 * drives the engine through them in virtual time.
 *
 * UPDATE_GOLDEN=1 npm run test:unit rewrites expected.json; review the diff.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { validateWorkflow } from "../../lib/core/cdl/index.ts";
import type { HistoryEvent } from "../../lib/core/engine/index.ts";
import type { JsonValue } from "../../lib/core/expr/index.ts";
import { repoPath } from "../helpers.ts";
import { type Outcome, type Script, simulate } from "../support/simulate.ts";

const ROOT = repoPath("test", "fixtures", "workflows");
const START = Date.UTC(2026, 0, 1);

interface ScriptFile {
  readonly workflow?: string;
  /**
   * Per activity: outcomes by attempt; or by input (`when`, a partial match, else
   * `otherwise`); or `calls`, one outcome per call in order (for loops).
   */
  readonly activities?: Record<
    string,
    | Outcome[]
    | { when: { input: JsonValue; outcomes: Outcome[] }[]; otherwise: Outcome[] }
    | { calls: Outcome[] }
  >;
  readonly events?: { at: number; event: string; payload: JsonValue }[];
  readonly cancelAt?: number;
  readonly latency?: number;
}

/** True when every key of `pattern` is in `value` with a matching value (recursively). */
function matches(value: JsonValue, pattern: JsonValue): boolean {
  if (pattern === null || typeof pattern !== "object") return value === pattern;
  if (value === null || typeof value !== "object") return false;
  return Object.entries(pattern).every(([k, v]) =>
    matches((value as Record<string, JsonValue>)[k] ?? null, v),
  );
}

function scriptOf(file: ScriptFile): Script {
  const script: Record<string, Script[string]> = {};
  for (const [name, entry] of Object.entries(file.activities ?? {})) {
    if (Array.isArray(entry)) {
      script[name] = entry;
    } else if ("calls" in entry) {
      let call = 0;
      script[name] = () => entry.calls[Math.min(call++, entry.calls.length - 1)] ?? { ok: null };
    } else {
      script[name] = (input: JsonValue, attempt: number) => {
        const list = entry.when.find((w) => matches(input, w.input))?.outcomes ?? entry.otherwise;
        return list[Math.min(attempt, list.length) - 1] ?? { ok: null };
      };
    }
  }
  return script;
}

/** One history event as a line: `+<ms> <thread> #<step> <type> <state> [attempt] [error] [detail]`. */
function line(event: HistoryEvent): string {
  const parts = [`+${event.at - START}`, event.thread, `#${event.step}`, event.type];
  if (event.state !== undefined) parts.push(event.state);
  if (event.attempt !== undefined) parts.push(`attempt=${event.attempt}`);
  if (event.error !== undefined) parts.push(`error=${event.error.name}`);
  if (event.detail?.delayMs !== undefined) parts.push(`delay=${String(event.detail.delayMs)}`);
  if (event.detail?.next !== undefined) parts.push(`next=${String(event.detail.next)}`);
  if (event.type === "BranchFinished") parts.push(String(event.detail?.status));
  return parts.join(" ");
}

for (const name of readdirSync(ROOT).sort()) {
  test(`golden: ${name}`, () => {
    const dir = `${ROOT}/${name}`;
    const script = JSON.parse(readFileSync(`${dir}/script.json`, "utf8")) as ScriptFile;
    const workflowFile = script.workflow ? repoPath(script.workflow) : `${dir}/workflow.yaml`;
    const validation = validateWorkflow(workflowFile, readFileSync(workflowFile, "utf8"), {
      defaultName: name,
    });
    assert.ok(validation.definition, validation.diagnostics.map((d) => d.message).join("; "));
    const input = JSON.parse(readFileSync(`${dir}/input.json`, "utf8")) as JsonValue;

    const result = simulate(validation.definition, input, {
      script: scriptOf(script),
      start: START,
      ...(script.events ? { events: script.events } : {}),
      ...(script.cancelAt === undefined ? {} : { cancelAt: script.cancelAt }),
      ...(script.latency === undefined ? {} : { latency: script.latency }),
    });
    assert.equal(result.endings, 1, "the execution ends exactly once");

    const actual = {
      status: result.status,
      ...(result.output === undefined ? {} : { output: result.output }),
      ...(result.error === undefined ? {} : { error: result.error }),
      activityCalls: result.calls.map((c) => `${c.activity} ${c.key}`),
      history: result.history.map(line),
    };
    const expectedFile = `${dir}/expected.json`;
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(expectedFile)) {
      writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
      assert.ok(
        process.env.UPDATE_GOLDEN === "1",
        `wrote ${expectedFile}: review it, then run again`,
      );
    }
    assert.deepEqual(actual, JSON.parse(readFileSync(expectedFile, "utf8")));
  });
}
