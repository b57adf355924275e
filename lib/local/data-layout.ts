/**
 * Which version of the table layout a `cascade dev` data folder holds: a marker file
 * written when the folder gets its first data, so that a later Cascade with another
 * layout refuses the folder with a clear message instead of misreading its items.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATA_LAYOUT_VERSION } from "../manifest/index.ts";
import { EMULATOR_DATA_DIRS } from "./emulators.ts";

/** The marker in a data folder: `{"layout": 2}`. */
export const DATA_LAYOUT_FILE = "layout.json";

/** The layout before the step log; a folder with data but no marker holds it. */
const FIRST_LAYOUT = 1;

/** What a data folder holds. */
export type DataLayout =
  /** No data yet: it can take this version's layout. */
  | { readonly kind: "empty" }
  /** Data of layout `layout` (1 when there is data but no marker). */
  | { readonly kind: "layout"; readonly layout: number }
  /** A marker that does not say which layout. */
  | { readonly kind: "unreadable"; readonly reason: string };

/** Reads the layout of `dataDir` (which need not exist). Never throws on a bad marker. */
export function readDataLayout(dataDir: string): DataLayout {
  const marker = join(dataDir, DATA_LAYOUT_FILE);
  if (existsSync(marker)) {
    try {
      const value = JSON.parse(readFileSync(marker, "utf8")) as { layout?: unknown };
      if (Number.isInteger(value?.layout))
        return { kind: "layout", layout: value.layout as number };
      return { kind: "unreadable", reason: `${DATA_LAYOUT_FILE} has no whole number \`layout\`` };
    } catch (error) {
      return { kind: "unreadable", reason: `${DATA_LAYOUT_FILE}: ${(error as Error).message}` };
    }
  }
  const hasData = Object.values(EMULATOR_DATA_DIRS).some((name) => {
    const dir = join(dataDir, name);
    return existsSync(dir) && readdirSync(dir).length > 0;
  });
  return hasData ? { kind: "layout", layout: FIRST_LAYOUT } : { kind: "empty" };
}

/** Records this version's layout in a data folder that has no data yet. */
export function writeDataLayout(dataDir: string): void {
  writeFileSync(
    join(dataDir, DATA_LAYOUT_FILE),
    `${JSON.stringify({ layout: DATA_LAYOUT_VERSION })}\n`,
  );
}

/**
 * Why a data folder cannot be used by this version, as one message that says what to
 * do; undefined when it can (this layout, or no data yet). `shown` names the folder.
 */
export function dataLayoutProblem(layout: DataLayout, shown: string): string | undefined {
  const ways = `move the folder away or delete it to start afresh, or run with --ephemeral (in memory) or --data-dir <another folder> to leave it untouched`;
  switch (layout.kind) {
    case "empty":
      return undefined;
    case "unreadable":
      return `${shown} does not say which version of Cascade wrote it (${layout.reason}); ${ways}`;
    case "layout":
      if (layout.layout === DATA_LAYOUT_VERSION) return undefined;
      return layout.layout < DATA_LAYOUT_VERSION
        ? `${shown} holds data from an older version of Cascade (data layout ${layout.layout}; this version uses layout ${DATA_LAYOUT_VERSION}) and cannot read it; ${ways}`
        : `${shown} holds data from a newer version of Cascade (data layout ${layout.layout}; this version reads layout ${DATA_LAYOUT_VERSION}); upgrade Cascade, or ${ways}`;
    default: {
      const never: never = layout;
      return String(never);
    }
  }
}
