/** Small shared helpers for tests. */
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A path inside the repository. */
export function repoPath(...parts: string[]): string {
  return fileURLToPath(new URL(`../${parts.join("/")}`, import.meta.url));
}

/** How many runs a property test makes: FUZZ_RUNS when set (npm run fuzz), else `fallback`. */
export function runs(fallback: number): number {
  const value = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}
