/**
 * On demand (`npm run test:scale`; SCALE_LINES=1000000 by default, tens of minutes on a
 * 2-core machine): a JSON Lines object in the embedded S3 (fauxqs) runs through a Map
 * with `item_reader` and `result_writer` on the emulators, and the parts in the bucket
 * hold every result in item order. `SCALE_LINES=20000` checks the same in about a minute.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type LocalStack, startLocalStack } from "../../lib/local/stack.ts";

const LINES = Number(process.env.SCALE_LINES ?? 1_000_000);

let stack: LocalStack;
before(async () => {
  stack = await startLocalStack({
    app: "scale-items",
    ephemeral: true,
    workflows: [
      {
        file: "lines.yaml",
        source: `name: Lines
states:
  - name: Each
    type: Map
    item_reader: { bucket: scale-in, key: lines.jsonl, format: jsonl }
    result_writer: { bucket: scale-out, key_prefix: "runs/{{ $.run }}" }
    max_concurrency: 1000
    iterator:
      - { name: Double, type: Task, resource: "urn:cascade:activity:double", end: true }
    result: $.written
    end: true
`,
      },
    ],
    activities: new Map([["double", ((line: { n: number }) => line.n * 2) as never]]),
    concurrency: Number(process.env.SCALE_POLLERS ?? 32),
    runtime: { log: () => {} },
  });
  for (const bucket of ["scale-in", "scale-out"])
    await stack.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
after(async () => {
  await stack?.stop();
});

test(`a ${LINES.toLocaleString("en")}-line JSON Lines object through a Map, results written to S3`, {
  timeout: 7_200_000,
}, async () => {
  const text = Array.from({ length: LINES }, (_, n) => `{"n":${n}}\n`).join("");
  await stack.objects.put("scale-in", "lines.jsonl", text);
  const started = Date.now();
  await stack.runtime.startExecution("Lines", { run: "r1" }, { id: "lines-1" });
  const ended = await stack.waitFor("lines-1", 7_000_000);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(ended.thread.status, "succeeded", JSON.stringify(ended.thread.error));
  const data = (await stack.runtime.codec.load(ended.thread.data)) as {
    written: { result_writer: { manifest_key: string }; counts: { succeeded: number } };
  };
  assert.equal(data.written.counts.succeeded, LINES);
  const read = async (key: string) => {
    const info = await stack.objects.head("scale-out", key);
    const bytes = await stack.objects.getRange("scale-out", key, 0, info?.size ?? 0);
    return JSON.parse(new TextDecoder().decode(bytes));
  };
  const manifest = (await read(data.written.result_writer.manifest_key)) as { parts: string[] };
  let next = 0;
  for (const key of manifest.parts) {
    const part = (await read(key)) as { results: { index: number; output: number }[] };
    for (const r of part.results) {
      assert.equal(r.index, next, `part ${key}`);
      assert.equal(r.output, next * 2);
      next++;
    }
  }
  assert.equal(next, LINES);
  console.log(`${LINES} lines in ${seconds.toFixed(1)} s: ${(LINES / seconds).toFixed(0)} items/s`);
});
