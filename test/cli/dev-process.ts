/** `cascade dev` as a child process, for end-to-end tests: started on a free port, stopped or killed. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoPath } from "../helpers.ts";
import { CASCADE, NODE } from "./cli-process.ts";

export interface DevProcess {
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Every line it printed so far (JSON log lines). */
  readonly lines: string[];
  /** Waits for a printed line that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, and waits for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, and waits for the process to be gone. */
  kill(): Promise<void>;
}

/** Writes an app's files into a new temporary folder and returns it. */
export function writeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "cascade-dev-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Starts `cascade dev APP --port 0 --log-format json ...` and resolves once it is ready. */
export async function startDev(
  appDir: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<DevProcess> {
  const child = spawn(
    NODE,
    [CASCADE, "dev", appDir, "--port", "0", "--log-format", "json", ...args],
    {
      cwd: repoPath(),
      env: { ...process.env, ...env },
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    lines.push(...parts.filter((l) => l !== ""));
    for (const wake of waiters) wake();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const wake of waiters) wake();
  });

  const waitForLine = (match: (line: string) => boolean, ms = timeoutMs): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (gone) {
          done();
          reject(
            new Error(
              `cascade dev exited before the line was printed\n${lines.join("\n")}\n${stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `no such line from cascade dev in ${ms} ms\n${lines.slice(-20).join("\n")}\n${stderr}`,
          ),
        );
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const ready = JSON.parse(await waitForLine((l) => l.includes('"kind":"ready"'))) as {
    url: string;
  };
  return {
    url: ready.url,
    child,
    lines,
    waitForLine,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}
