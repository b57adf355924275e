/** Writes schema/cdl.schema.json and schema/cascade.schema.json from their sources (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { APP_CONFIG_SCHEMA } from "../lib/app/config-schema.ts";
import { renderCdlSchema } from "../lib/core/cdl/publish.ts";

const write = (name: string, text: string): void => {
  const target = fileURLToPath(new URL(`../schema/${name}`, import.meta.url));
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
};
write("cdl.schema.json", renderCdlSchema());
write("cascade.schema.json", `${JSON.stringify(APP_CONFIG_SCHEMA, null, 2)}\n`);
