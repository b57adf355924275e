/**
 * Limits that keep every template cheap to parse and to evaluate, whatever a
 * workflow author or an execution's data contains.
 */

/** Default maximum number of evaluation steps for one `evaluateTemplate` / `evaluateValue` call. */
export const MAX_EVALUATION_STEPS = 100_000;

/** Longest string (in UTF-16 code units) an evaluation may produce. */
export const MAX_STRING_LENGTH = 1_000_000;

/** Longest array an evaluation may produce. */
export const MAX_ARRAY_LENGTH = 100_000;

/** Longest expression between `{{` and `}}`, in characters. */
export const MAX_EXPRESSION_LENGTH = 10_000;

/** Deepest nesting of an expression: parentheses, brackets, prefix operators and operator chains. */
export const MAX_NESTING_DEPTH = 64;

/**
 * Deepest nesting of a data value that an operation walks (equality, `json`, `unique`, ...).
 * Walking deeper values recursively could exhaust the call stack.
 */
export const MAX_VALUE_DEPTH = 512;

/**
 * Characters of a string that one evaluation step pays for. String operations
 * run natively, so charging per character would make ordinary payloads exceed
 * the budget; charging nothing would let `$.s + $.s + ...` burn CPU unmetered.
 */
export const STRING_CHARS_PER_STEP = 1_000;

/** Largest shard count the `shard(n)` filter accepts. */
export const MAX_SHARD_COUNT = 100_000;
