/** CDL durations: `500ms`, `10s`, `5m`, `1h`, `1d`, or sums such as `1h30m`. */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /([0-9]+)(ms|s|m|h|d)/y;

/** The longest duration CDL accepts: one year, in milliseconds. */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

/** Milliseconds for a duration string, or `undefined` when it is malformed or longer than a year. */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  return total <= MAX_DURATION_MS ? total : undefined;
}

/** The shortest duration string for a number of milliseconds: 90000 → `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
