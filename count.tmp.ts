import { PayloadCodec } from "./lib/runtime/codec.ts";

const orig = PayloadCodec.prototype.store;
const stats = { calls: 0, bytes: 0, stacks: new Map<string, number>() };
PayloadCodec.prototype.store = function (value, id, force) {
  const n = JSON.stringify(value).length;
  if (n > 100_000) {
    stats.calls++;
    stats.bytes += n;
    const where = (new Error().stack ?? "")
      .split("\n")
      .slice(2, 4)
      .map((l) => l.trim().replace(/.*\/lib\//, ""))
      .join(" < ");
    stats.stacks.set(where, (stats.stacks.get(where) ?? 0) + 1);
  }
  return orig.call(this, value, id, force);
};
process.on("beforeExit", () => {
  console.log(stats.calls, Math.round(stats.bytes / 1e6), "MB");
  for (const [k, v] of [...stats.stacks].sort((a, b) => b[1] - a[1])) console.log(v, k);
});
await import("./big.tmp.ts");
