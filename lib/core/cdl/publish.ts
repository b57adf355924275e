import { CDL_SCHEMA } from "./schema.ts";

/**
 * The text of `schema/cdl.schema.json`: CDL's schema for editors. The custom
 * `format` keywords are kept (editors ignore unknown formats; `pattern` carries
 * what an editor can check).
 */
export function renderCdlSchema(): string {
  return `${JSON.stringify(CDL_SCHEMA, null, 2)}\n`;
}
