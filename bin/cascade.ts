#!/usr/bin/env node
// The `cascade` command. A shim: it checks the Node version first, with a message a
// person can act on, then loads the program (a static import would fail on older Node
// before any check could run).
const MIN_NODE_MAJOR = 24;
const major = Number(process.versions.node.split(".")[0]);
if (major < MIN_NODE_MAJOR) {
  process.stderr.write(
    `cascade: Node.js ${MIN_NODE_MAJOR} or later is required; this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      "Install Node 24 (for example with nvm: nvm install 24), or run npx cascade with it.\n",
  );
  process.exit(69);
}
const { processIo } = await import("../lib/cli/io.ts");
const { main } = await import("../lib/cli/program.ts");
process.exitCode = await main(process.argv.slice(2), processIo());
