/** The JSON Schema of a Map's `item_reader:` and `result_writer:` (part of `schema.ts`'s definitions). */
import type { JsonSchema } from "./schema.ts";

/** The formats `item_reader` reads. */
export const ITEM_FORMATS = ["json", "jsonl", "csv"] as const;
export type ItemFormat = (typeof ITEM_FORMATS)[number];

/** `ItemReader` and `ResultWriter`, referenced from the Map state's schema. */
export const ITEM_SCHEMAS: Readonly<Record<"ItemReader" | "ResultWriter", JsonSchema>> = {
  ItemReader: {
    type: "object",
    required: ["bucket", "key", "format"],
    additionalProperties: false,
    description:
      "Reads the Map's items from an S3 object, a page at a time (never the whole object at once), instead of `items`.",
    properties: {
      bucket: {
        type: "string",
        format: "template",
        description: 'The bucket, templated, e.g. "{{ $.input.bucket }}" or my-data.',
      },
      key: {
        type: "string",
        format: "template",
        description: 'The object\'s key, templated, e.g. "orders/{{ $.day }}.jsonl".',
      },
      format: {
        enum: [...ITEM_FORMATS],
        description:
          "json: one JSON array of items; jsonl: one JSON value per line (blank lines skipped); csv: RFC 4180 rows, each an object of strings.",
      },
      csv_header: {
        description:
          "csv only. true (the default): the first row names the columns. A list of names: every row is data.",
        oneOf: [
          { type: "boolean", const: true },
          { type: "array", minItems: 1, items: { type: "string" } },
        ],
      },
      max_items: {
        type: "integer",
        minimum: 1,
        description: "Read at most this many items from the start of the object.",
      },
    },
  },
  ResultWriter: {
    type: "object",
    required: ["bucket", "key_prefix"],
    additionalProperties: false,
    description:
      "Writes the Map's results to S3 in item order, in parts, and puts a small manifest in the data in place of the outputs.",
    properties: {
      bucket: { type: "string", format: "template", description: "The bucket, templated." },
      key_prefix: {
        type: "string",
        format: "template",
        description:
          'Where the parts and the manifest go, templated, e.g. "results/{{ execution.id }}".',
      },
    },
  },
};
