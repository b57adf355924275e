/** Writes schema/cdl.schema.json from the CDL schema in lib/core/cdl (`npm run schema`). */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderCdlSchema } from "../lib/core/cdl/publish.ts";

const target = fileURLToPath(new URL("../schema/cdl.schema.json", import.meta.url));
writeFileSync(target, renderCdlSchema());
console.log(`wrote ${target}`);
