/**
 * The order example's activities: plain async functions, registered by their
 * export names. They do plausible work with a little random latency.
 */

export interface CartItem {
  readonly id: string;
  readonly quantity: number;
  readonly price?: number;
}

export interface Order {
  readonly customer_id: string;
  readonly cart_items: readonly CartItem[];
  readonly flags?: readonly string[];
  readonly [key: string]: unknown;
}

/** Waits between `min` and `max` milliseconds, as a remote call would. */
export function latency(min = 5, max = 25): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, min + Math.random() * (max - min)));
}

/** Checks the order's shape; returns the order with `valid` and, when invalid, `reason`. */
export async function validate_order(
  order: Order,
): Promise<Order & { valid: boolean; reason?: string }> {
  await latency();
  const items = Array.isArray(order.cart_items) ? order.cart_items : [];
  if (typeof order.customer_id !== "string" || order.customer_id === "") {
    return { ...order, valid: false, reason: "the order has no customer" };
  }
  if (items.length === 0) return { ...order, valid: false, reason: "the cart is empty" };
  const bad = items.find((item) => !(item.quantity > 0));
  if (bad) return { ...order, valid: false, reason: `item ${bad.id} has no quantity` };
  return { ...order, valid: true };
}

/** The multi-region validator: the same rules, answering where it ran. */
export async function validate(input: {
  customer_id: string;
  product_ids: readonly string[];
  flags: readonly string[] | null;
  shard: string;
}): Promise<{ valid: boolean; reason?: string; shard: string }> {
  await latency(10, 40);
  if (input.product_ids.length === 0)
    return { valid: false, reason: "the cart is empty", shard: input.shard };
  if (input.flags?.includes("fraud"))
    return { valid: false, reason: "flagged for fraud", shard: input.shard };
  return { valid: true, shard: input.shard };
}

/** Runs the whole order once validated. */
export async function process_order(input: {
  customer_id: string;
  product_ids: readonly string[];
  shard: string;
}): Promise<{ order_id: string; items: number; shard: string }> {
  await latency();
  return {
    order_id: `ord-${input.customer_id}-${input.product_ids.length}`,
    items: input.product_ids.length,
    shard: input.shard,
  };
}

/** Acknowledges an order for the async queueing pattern. */
export async function accept_order(order: Order): Promise<{ accepted_items: number }> {
  await latency(1, 5);
  return { accepted_items: order.cart_items.length };
}

/** Reserves one cart item (one Map iteration). */
export async function reserve_item(item: CartItem): Promise<{ id: string; reserved: number }> {
  await latency(2, 10);
  return { id: item.id, reserved: item.quantity };
}

/** Hands the order to the warehouse (a dedicated worker queue). */
export async function fulfill_order(order: Order): Promise<{ warehouse: string }> {
  await latency(10, 30);
  return { warehouse: order.customer_id.length % 2 === 0 ? "north" : "south" };
}

/** Tells the customer the shipment is late. */
export async function notify_delay(order: Order): Promise<{ notified: string }> {
  await latency(1, 5);
  return { notified: order.customer_id };
}
