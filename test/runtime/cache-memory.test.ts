/** The cache contract on the in-memory adapter (virtual clock). */
import { MemoryResultCache } from "../../lib/adapters/memory/cache.ts";
import { cacheContract } from "./cache.contract.ts";

cacheContract("MemoryResultCache", async () => {
  let now = 0;
  return {
    cache: new MemoryResultCache({ now: () => now }),
    wait: async (ms) => {
      now += ms;
    },
  };
});
