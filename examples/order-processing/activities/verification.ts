/** The three parallel checks of the order workflow, and how their answers combine. */
import { latency, type Order } from "./orders.ts";

export async function verify_identity(
  order: Order,
): Promise<{ verified: boolean; method: string }> {
  await latency();
  return { verified: !order.flags?.includes("unverified"), method: "document" };
}

export async function check_credit(order: Order): Promise<{ approved: boolean; limit: number }> {
  await latency();
  const total = order.cart_items.reduce((sum, item) => sum + item.quantity * (item.price ?? 10), 0);
  const limit = 1_000;
  return { approved: total <= limit, limit };
}

export async function check_inventory(input: {
  product_ids: readonly string[];
  shard: string;
}): Promise<{ in_stock: boolean; checked: number; shard: string }> {
  await latency();
  return {
    in_stock: !input.product_ids.includes("sold-out"),
    checked: input.product_ids.length,
    shard: input.shard,
  };
}

export async function combine_results(data: {
  identity?: { verified: boolean };
  credit?: { approved: boolean };
  inventory?: { in_stock: boolean };
}): Promise<{ approved: boolean; reasons: string[] }> {
  await latency(1, 5);
  const reasons: string[] = [];
  if (data.identity && !data.identity.verified) reasons.push("identity not verified");
  if (data.credit && !data.credit.approved) reasons.push("credit limit exceeded");
  if (data.inventory && !data.inventory.in_stock) reasons.push("out of stock");
  return { approved: reasons.length === 0, reasons };
}
