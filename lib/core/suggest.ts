/**
 * "Did you mean" for names a user typed: the closest known name by
 * Damerau-Levenshtein distance (a transposition counts as one edit),
 * compared case-insensitively.
 */

/** Names longer than this get no suggestion: the comparison would cost too much for no help. */
export const MAX_SUGGEST_LENGTH = 100;

/**
 * Optimal string alignment distance between `a` and `b` (insert, delete,
 * substitute, transpose), in O(|a|·|b|) time and O(|b|) memory.
 */
export function editDistance(a: string, b: string): number {
  const cols = b.length + 1;
  let before = new Array<number>(cols).fill(0);
  let previous = Array.from({ length: cols }, (_, j) => j);
  let current = new Array<number>(cols).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length] ?? 0;
}

/**
 * The known name closest to `input`, or `undefined` when none is close enough.
 * "Close enough" is at most a third of the longer name's length in edits (at least 1),
 * so `Taks` finds `Task` but `Foo` does not find `Parallel`.
 */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  if (input.length > MAX_SUGGEST_LENGTH) return undefined;
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input || candidate.length > MAX_SUGGEST_LENGTH) continue;
    const limit = Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3));
    if (Math.abs(candidate.length - input.length) > limit) continue;
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
