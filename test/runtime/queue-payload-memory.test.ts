import { MemoryPayloadStore } from "../../lib/adapters/memory/payloads.ts";
import { MemoryQueues } from "../../lib/adapters/memory/queue.ts";
import { payloadContract, queueContract } from "./queue-payload.contract.ts";

queueContract("MemoryQueues", async () => {
  let now = 1_000_000;
  const queues = new MemoryQueues({ now: () => now, visibilityTimeoutMs: 30_000 });
  return {
    queue: queues,
    consumer: queues.queue("transitions"),
    now: () => now,
    advance: async (ms) => {
      now += ms;
    },
  };
});
payloadContract("MemoryPayloadStore", async () => new MemoryPayloadStore());
