/**
 * The emulators in a worker thread of this process: dynalite and fauxqs then use
 * the machine's second core while the runtime, its SDK clients and the activities
 * use the first. Same emulators, same data directory, still one process.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { type EmulatorOptions, type Emulators, startEmulators } from "./emulators.ts";

type Reply = { ok: true; endpoints: Emulators["endpoints"] } | { ok: false; error: string };

/** Starts the emulators on a worker thread; `close()` stops them and the thread. */
export async function startEmulatorThread(options: EmulatorOptions = {}): Promise<Emulators> {
  const worker = new Worker(new URL(import.meta.url), { workerData: options });
  const reply = await new Promise<Reply>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) =>
      reject(new Error(`the emulator thread exited with code ${code}`)),
    );
  });
  if (!reply.ok) {
    await worker.terminate();
    throw new Error(`could not start the emulators: ${reply.error}`);
  }
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    worker.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  return {
    endpoints: reply.endpoints,
    async close() {
      if (!exited) worker.postMessage("close");
      await gone;
    },
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  try {
    const emulators = await startEmulators(workerData as EmulatorOptions);
    port.on("message", (message) => {
      if (message !== "close") return;
      emulators
        .close()
        .catch(() => {})
        .finally(() => {
          port.close();
          process.exit(0);
        });
    });
    port.postMessage({ ok: true, endpoints: emulators.endpoints } satisfies Reply);
  } catch (error) {
    port.postMessage({ ok: false, error: (error as Error).message } satisfies Reply);
  }
}
