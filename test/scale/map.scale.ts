/**
 * On demand (`npm run test:scale`, several minutes): a 100,000-item Map of a trivial Task
 * on the emulators (dynalite + fauxqs) completes with its outputs in order, and no item
 * or message passes AWS's limits (the local adapters enforce them).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const WIDTH = Number(process.env.SCALE_ITEMS ?? 100_000);

let stack: LocalStack;
before(async () => {
  stack = await startLocalStack({
    app: "scale",
    ephemeral: true,
    workflows: [
      {
        file: "wide.yaml",
        source: `name: Wide
states:
  - name: Each
    type: Map
    items: "{{ $.items }}"
    iterator:
      - { name: Double, type: Task, resource: "urn:cascade:activity:double", end: true }
    result: $.out
    end: true
`,
      },
    ],
    activities: new Map([["double", ((n: number) => n * 2) as never]]),
    concurrency: Number(process.env.SCALE_POLLERS ?? 32),
    runtime: { log: () => {} },
  });
});
after(async () => {
  await stack?.stop();
});

test(`a ${WIDTH.toLocaleString("en")}-item Map of a trivial Task completes with its outputs in order`, {
  timeout: 1_800_000,
}, async () => {
  const items = Array.from({ length: WIDTH }, (_, n) => n);
  const started = Date.now();
  await stack.runtime.startExecution("Wide", { items }, { id: "wide-1" });
  const ended = await stack.waitFor("wide-1", 1_700_000);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(ended.thread.status, "succeeded", JSON.stringify(ended.thread.error));
  const data = (await stack.runtime.codec.load(ended.thread.data)) as { out: number[] };
  assert.equal(data.out.length, WIDTH);
  for (let n = 0; n < WIDTH; n++)
    if (data.out[n] !== n * 2) assert.fail(`item ${n}: ${data.out[n]}`);
  console.log(`${WIDTH} items in ${seconds.toFixed(1)} s: ${(WIDTH / seconds).toFixed(0)} items/s`);
});
