/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /** True when stdout is a terminal (colours, progress bars). */
  readonly isTty: boolean;
  /** Reads all of standard input (for `-` as a JSON argument). Default: none. */
  readonly readStdin?: () => Promise<string>;
  /** Environment variables (`CASCADE_ENDPOINT`, ...). Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    isTty: process.stdout.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    env: process.env,
  };
}

/** A `CliIo` that records what was written, for tests. */
export function captureIo(
  cwd: string,
  extra: { stdin?: string; env?: Record<string, string> } = {},
): CliIo & { readonly out: string[]; readonly err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => {
      out.push(text);
    },
    stderr: (text) => {
      err.push(text);
    },
    cwd,
    isTty: false,
    ...(extra.stdin === undefined ? {} : { readStdin: async () => extra.stdin ?? "" }),
    env: extra.env ?? {},
  };
}
