/**
 * A Jest transformer for Cascade's TypeScript sources: Node's own type stripping
 * (`module.stripTypeScriptTypes`), the same erasure `node --test` applies, so Jest runs
 * the kit's sources as Node does. A user's project would use ts-jest or run the
 * package's compiled JavaScript instead.
 */
const { stripTypeScriptTypes } = require("node:module");

module.exports = {
  process(source) {
    return { code: stripTypeScriptTypes(source, { mode: "strip" }) };
  },
};
