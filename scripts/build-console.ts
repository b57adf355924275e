/**
 * `npm run build:console`: bundles the console (lib/console) into dist/console and prints
 * its size on standard error (`npm pack --json`, which runs it through prepack, owns stdout).
 */
import { gzipSync } from "node:zlib";
import { buildConsole, CONSOLE_DIST_DIR, writeConsoleAssets } from "../lib/local/console-assets.ts";

const assets = await buildConsole();
writeConsoleAssets(assets);
let raw = 0;
let gzip = 0;
for (const [path, asset] of assets) {
  const bytes = Buffer.byteLength(asset.body);
  const zipped = gzipSync(asset.body).length;
  raw += bytes;
  gzip += zipped;
  console.error(
    `${path.padEnd(20)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${(zipped / 1024).toFixed(1).padStart(6)} KB gzip`,
  );
}
console.error(
  `${"total".padEnd(20)} ${(raw / 1024).toFixed(1).padStart(7)} KB  ${(gzip / 1024).toFixed(1).padStart(6)} KB gzip  → ${CONSOLE_DIST_DIR}`,
);
