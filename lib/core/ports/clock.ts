/** The clock port. */

/** The clock, injected so tests control time. */
export interface Clock {
  now(): number;
}
