/** Runs the `cascade` program as a real process, as a user would. */
import { spawn } from "node:child_process";
import { repoPath } from "../helpers.ts";

/** The Node 24 that ships as a devDependency. */
export const NODE = repoPath("node_modules", ".bin", "node");
/** The `cascade` shim. */
export const CASCADE = repoPath("bin", "cascade.ts");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cascade ...args` to its end; fails the test if it takes longer than `timeoutMs`. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CASCADE, ...args], {
      cwd: options.cwd ?? repoPath(),
      env: { ...process.env, CASCADE_ENDPOINT: "", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `cascade ${args.join(" ")} did not end in ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? "");
  });
}
