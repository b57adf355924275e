/**
 * Deterministic randomness for retry jitter: a 32-bit generator whose state is
 * stored in the thread, so a replay of the same events draws the same delays.
 */

/** FNV-1a 32-bit of a string's UTF-16 code units: the seed of a thread's generator. */
export function seedFor(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** One step of mulberry32: the next state and a uniform draw in [0, 1). */
export function nextRandom(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}
