/** How a running `cascade dev` is found: the state file it keeps in its data folder. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The data folder inside the app. */
export const DATA_DIR_NAME = ".cascade";
/** The file `cascade dev` writes in its data folder while it runs. */
export const DEV_STATE_FILE = "dev.json";

/** What `cascade dev` writes to `<dataDir>/dev.json` while it runs. */
export interface DevState {
  readonly pid: number;
  readonly url: string;
  readonly app: string;
  readonly startedAt: string;
}

/** The state of the `cascade dev` running on `dataDir`; undefined when none is (a stale file left by `kill -9` included). */
export function readDevState(dataDir: string): DevState | undefined {
  const file = join(dataDir, DEV_STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as DevState;
    if (typeof state.pid !== "number" || typeof state.url !== "string") return undefined;
    return isAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
