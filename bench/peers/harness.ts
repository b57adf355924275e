/**
 * Shared by the peer benchmarks: the seed order workflow's input and (trivial,
 * CPU-only) activities, run sizes, the measuring loop and the output line.
 *
 * Each peer implements validate_order → choice (valid?) → verify_identity,
 * check_credit and check_inventory in parallel → combine_results with these
 * same activities, so the figures are orchestration overhead and nothing else.
 */

export interface CartItem {
  id: string;
  quantity: number;
  price: number;
}
export interface Order {
  customer_id: string;
  cart_items: CartItem[];
}
export interface ValidatedOrder extends Order {
  valid: boolean;
  total: number;
}
export interface Identity {
  verified: boolean;
  method: string;
}
export interface Credit {
  approved: boolean;
  limit: number;
}
export interface Inventory {
  in_stock: boolean;
  checked: number;
}
export interface Decision {
  approved: boolean;
  reasons: string[];
}

export const order = (n: number): Order => ({
  customer_id: `c-${n}`,
  cart_items: [{ id: "sku-1", quantity: 2, price: 30 }],
});

export const activities = {
  validate_order: (input: Order): ValidatedOrder => ({
    ...input,
    valid: input.cart_items.length > 0 && input.cart_items.every((item) => item.quantity > 0),
    total: input.cart_items.reduce((sum, item) => sum + item.quantity * item.price, 0),
  }),
  verify_identity: (_order: ValidatedOrder): Identity => ({ verified: true, method: "document" }),
  check_credit: (order: ValidatedOrder): Credit => ({
    approved: order.total <= 1000,
    limit: 1000,
  }),
  check_inventory: (order: ValidatedOrder): Inventory => ({
    in_stock: true,
    checked: order.cart_items.length,
  }),
  combine_results: (identity: Identity, credit: Credit, inventory: Inventory): Decision => {
    const reasons: string[] = [];
    if (!identity.verified) reasons.push("identity not verified");
    if (!credit.approved) reasons.push("credit declined");
    if (!inventory.in_stock) reasons.push("out of stock");
    return { approved: reasons.length === 0, reasons };
  },
};

/** Workflows per phase: argv[2] and argv[3], else env, else 300 at c=1 and 2000 at c=32. */
export interface Sizes {
  warmup: number;
  serial: number;
  concurrent: number;
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not ${value}`);
  return n;
}

export function sizes(): Sizes {
  const [serial, concurrent] = process.argv.slice(2);
  return {
    warmup: count("BENCH_PEER_WARMUP", process.env.BENCH_PEER_WARMUP, 100),
    serial: count("n at c=1", serial ?? process.env.BENCH_PEER_SERIAL, 300),
    concurrent: count("n at c=32", concurrent ?? process.env.BENCH_PEER_CONCURRENT, 2000),
  };
}

export interface PhaseResult {
  concurrency: number;
  total: number;
  rate: number;
  p50: number;
  p99: number;
}

/**
 * Runs `total` workflows with at most `concurrency` in flight; `runOne` resolves
 * when workflow `n` has finished (its last activity is done) and throws if it failed.
 */
export async function phase(
  total: number,
  concurrency: number,
  runOne: (n: number) => Promise<void>,
  first = 0,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const n = first + next++;
        const t0 = performance.now();
        await runOne(n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { concurrency, total, rate: total / seconds, p50: pct(0.5), p99: pct(0.99) };
}

/** Warm-up, then c=1 and c=32; prints one line per phase. */
export async function measure(peer: string, runOne: (n: number) => Promise<void>): Promise<void> {
  const { warmup, serial, concurrent } = sizes();
  await phase(warmup, 8, runOne, 1_000_000);
  for (const [total, concurrency, first] of [
    [serial, 1, 0],
    [concurrent, 32, serial],
  ] as const) {
    console.log(line(peer, await phase(total, concurrency, runOne, first)));
  }
}

const cell = (text: string, width: number) => `${text.padEnd(width - 1)} `;

/** `bullmq  c=32  n=2000  wf/s=456.7  p50=60.3ms p99=120.9ms` */
export function line(peer: string, r: PhaseResult): string {
  return [
    cell(peer, 8),
    cell(`c=${r.concurrency}`, 6),
    cell(`n=${r.total}`, 8),
    cell(`wf/s=${r.rate.toFixed(1)}`, 12),
    cell(`p50=${r.p50.toFixed(1)}ms`, 11),
    `p99=${r.p99.toFixed(1)}ms`,
  ].join("");
}

/** Ends the process (exit 1) if the benchmark has not finished after `seconds`. */
export function hardTimeout(peer: string, seconds = 120): void {
  setTimeout(() => {
    console.error(`${peer}: gave up after ${seconds} s (hard timeout)`);
    process.exit(1);
  }, seconds * 1000).unref();
}

/** Reports a failed run: the error in full, then one line (the one bench/runtime.ts shows). */
export function failed(peer: string, error: unknown): void {
  console.error(error);
  console.error(`${peer}: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

/** Prints why a service is unreachable and how to start it, then exits 2. */
export function unreachable(peer: string, what: string, error: unknown, howToStart: string): never {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`${peer}: ${what} is not reachable (${reason}). Start it with: ${howToStart}`);
  process.exit(2);
}
