/**
 * Run as a child process by `readAppModelSync`: reads and checks the app folder given as
 * the first argument and prints `{ok: true, model}` or `{ok: false, report}` as JSON on
 * standard output. The user's activity modules are imported here, never in the CDK's
 * own process.
 */
import { AppModelError, readAppModel } from "./model.ts";

const dir = process.argv[2] ?? ".";
try {
  process.stdout.write(JSON.stringify({ ok: true, model: await readAppModel(dir) }));
} catch (error) {
  if (!(error instanceof AppModelError)) throw error;
  process.stdout.write(JSON.stringify({ ok: false, report: error.report }));
}
