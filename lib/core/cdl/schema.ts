/**
 * The JSON Schema of CDL: the one source of truth for the shape of a workflow.
 *
 * The validator in `structure.ts` interprets this very object (a draft-07 subset:
 * `type`, `properties`, `required`, `additionalProperties` (false, or a schema of every other value), `enum`, `const`,
 * `items`, `minItems`, `minimum`, `maximum`, `pattern`, `format`, `oneOf`, `$ref`),
 * and `scripts/write-schema.ts` publishes it as `schema/cdl.schema.json` for editors
 * (the YAML language server reads the `# yaml-language-server: $schema=` comment).
 * Cross-field rules (targets exist, reachability, result conflicts) live in
 * `semantics.ts`; they cannot be expressed in JSON Schema.
 *
 * Custom `format`s the validator checks: `duration`, `template`, `condition`,
 * `result-path`, `activity-urn`, `state-name`.
 */
import { ITEM_SCHEMAS } from "./schema-items.ts";

export { ITEM_FORMATS, type ItemFormat } from "./schema-items.ts";

/** The subset of JSON Schema used by CDL's schema. */
export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonSchemaType | readonly JsonSchemaType[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly enum?: readonly (string | number | boolean | null)[];
  readonly const?: string | number | boolean | null;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: CdlFormat;
  readonly oneOf?: readonly JsonSchema[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly definitions?: Readonly<Record<string, JsonSchema>>;
}

export type JsonSchemaType =
  | "object"
  | "array"
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "null";

export type CdlFormat =
  | "duration"
  | "template"
  | "condition"
  | "result-path"
  | "activity-urn"
  | "state-name";

/** `500ms`, `10s`, `5m`, `1h`, `1d`, or a sum such as `1h30m`. */
export const DURATION_PATTERN = "^(?:[0-9]+(?:ms|s|m|h|d))+$";
/** `urn:cascade:activity:<name>` with an optional `@<pool>` that routes to a worker pool (its own queue and function). */
export const ACTIVITY_URN_PATTERN =
  "^urn:cascade:activity:[A-Za-z_][A-Za-z0-9_]*(?:@[a-z0-9][a-z0-9-]*)?$";
/**
 * State names: letters, digits, `_`, `-`. They appear in thread ids, tokens,
 * idempotency keys, history and metrics, whose separators (`/`, `@`, `[`, `.`)
 * they must not contain.
 */
export const STATE_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_-]*$";
/** The longest state, event or workflow name. */
export const MAX_NAME_LENGTH = 80;
/** The state types CDL knows, in the order the reference documents them. */
export const STATE_TYPES = [
  "Task",
  "Choice",
  "Parallel",
  "Map",
  "Wait",
  "WaitForEvent",
  "Pass",
  "Succeed",
  "Fail",
] as const;
export type StateType = (typeof STATE_TYPES)[number];

const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });

const duration = (description: string): JsonSchema => ({
  type: "string",
  format: "duration",
  pattern: DURATION_PATTERN,
  description: `${description} A duration: 500ms, 10s, 5m, 1h, 1d, or a sum such as 1h30m.`,
});

const stateName = (description: string): JsonSchema => ({
  type: "string",
  format: "state-name",
  maxLength: MAX_NAME_LENGTH,
  description,
});

const common = {
  name: {
    type: "string",
    format: "state-name",
    pattern: STATE_NAME_PATTERN,
    maxLength: MAX_NAME_LENGTH,
    description: "The state's name, unique in the workflow: letters, digits, _ and -.",
  },
  comment: { type: "string", description: "Free text for readers; ignored by the engine." },
} as const satisfies Record<string, JsonSchema>;

const transition = {
  next: stateName("The state that runs after this one."),
  end: {
    const: true,
    description: "This state ends its flow (the workflow, a branch or an iteration).",
  },
} as const satisfies Record<string, JsonSchema>;

const resultPath = (description: string): JsonSchema => ({
  type: ["string", "null"],
  format: "result-path",
  description: `${description} A path such as $.a.b; $ replaces the whole data; null discards the value.`,
});

const stateSchemas: Record<StateType, JsonSchema> = {
  Task: {
    type: "object",
    description: "Runs an activity.",
    required: ["name", "type"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Task" },
      resource: {
        type: "string",
        format: "activity-urn",
        pattern: ACTIVITY_URN_PATTERN,
        description:
          "urn:cascade:activity:<name>[@<pool>]. Default: the state's name in snake_case (VerifyIdentity runs verify_identity). A pool (@payments; the seed's @us-east) routes the activity to that worker pool's own queue and function, in the app's region.",
      },
      parameters: {
        format: "template",
        description:
          "The activity's input; strings may hold {{ }} templates. Default: the whole execution data.",
      },
      result: resultPath("Where the activity's result lands. Default: it replaces the data."),
      timeout: duration("How long one attempt may run before it fails with Cascade.Timeout."),
      heartbeat: duration(
        "The longest gap between heartbeats before the attempt fails with Cascade.HeartbeatTimeout.",
      ),
      retry: {
        description: "Retriers, first match wins. A single mapping is accepted too.",
        oneOf: [{ type: "array", items: ref("Retrier") }, ref("Retrier")],
      },
      catch: {
        description: "Catchers, first match wins, tried once retries are exhausted.",
        oneOf: [{ type: "array", items: ref("Catcher") }, ref("Catcher")],
      },
      cache: ref("Cache"),
      ...transition,
    },
  },
  Choice: {
    type: "object",
    description: "Moves to the first choice whose condition is true, else to the default.",
    required: ["name", "type", "choices"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Choice" },
      choices: { type: "array", minItems: 1, items: ref("ChoiceRule") },
      default: stateName(
        "Where to go when no condition is true. Without it the workflow fails with Cascade.NoChoiceMatched.",
      ),
    },
  },
  Parallel: {
    type: "object",
    description: "Runs branches at once on the same data and joins them.",
    required: ["name", "type", "branches"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Parallel" },
      branches: { type: "array", minItems: 1, items: ref("Branch") },
      completion_strategy: {
        enum: ["ALL", "ANY", "AT_LEAST"],
        default: "ALL",
        description:
          "ALL waits for every branch; ANY continues with the first to succeed; AT_LEAST continues once at_least branches succeed.",
      },
      at_least: {
        type: "integer",
        minimum: 1,
        description: "With AT_LEAST: how many branches must succeed.",
      },
      tolerated_failures: {
        type: "integer",
        minimum: 0,
        description:
          "How many branches may fail before the Parallel fails with Cascade.BranchFailed. Default: 0 for ALL; for ANY and AT_LEAST, as many as still leave enough branches to succeed.",
      },
      result: resultPath(
        "Where the array of branch outputs, in branch order, lands. Default: nowhere.",
      ),
      catch: {
        oneOf: [{ type: "array", items: ref("Catcher") }, ref("Catcher")],
        description: "Catchers for the whole Parallel.",
      },
      ...transition,
    },
  },
  Map: {
    type: "object",
    description:
      "Runs its iterator once per item of an array (`items`) or of an S3 object (`item_reader`), with bounded concurrency.",
    required: ["name", "type", "iterator"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Map" },
      items: {
        format: "template",
        description:
          'The array to iterate, usually a template such as "{{ $.cart_items }}". A Map takes `items` or `item_reader`, exactly one.',
      },
      item_reader: ref("ItemReader"),
      result_writer: ref("ResultWriter"),
      max_concurrency: {
        type: "integer",
        minimum: 1,
        description:
          "At most this many iterations in flight (on AWS up to 10,000); omitted: no limit.",
      },
      iterator: {
        type: "array",
        minItems: 1,
        items: ref("State"),
        description: "The states each iteration runs; an iteration's input is its item.",
      },
      tolerated_failures: {
        type: "integer",
        minimum: 0,
        default: 0,
        description: "How many iterations may fail before the Map fails with Cascade.BranchFailed.",
      },
      tolerated_failure_percentage: {
        type: "number",
        minimum: 0,
        maximum: 100,
        description:
          "Or what share of the iterations may fail, in percent (rounded down); with tolerated_failures too, the stricter holds.",
      },
      result: resultPath(
        "Where the array of iteration outputs, in item order, lands. Default: it replaces the data.",
      ),
      catch: {
        oneOf: [{ type: "array", items: ref("Catcher") }, ref("Catcher")],
        description: "Catchers for the whole Map.",
      },
      ...transition,
    },
  },
  Wait: {
    type: "object",
    description: "Waits for a duration or until a timestamp.",
    required: ["name", "type"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Wait" },
      duration: duration("How long to wait."),
      until: {
        type: "string",
        format: "template",
        description:
          'An ISO-8601 timestamp to wait for, usually a template such as "{{ $.due_at }}". A time in the past continues at once.',
      },
      ...transition,
    },
  },
  WaitForEvent: {
    type: "object",
    description: "Parks the execution until a named event arrives through the API or the CLI.",
    required: ["name", "type", "event"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "WaitForEvent" },
      event: {
        type: "string",
        pattern: "^[A-Za-z0-9_.:-]+$",
        maxLength: MAX_NAME_LENGTH,
        description: "The event's name, as senders use it.",
      },
      timeout: duration("How long to wait before failing with Cascade.Timeout."),
      result: resultPath("Where the event's payload lands. Default: it replaces the data."),
      catch: {
        oneOf: [{ type: "array", items: ref("Catcher") }, ref("Catcher")],
        description: "Catchers, e.g. for Cascade.Timeout.",
      },
      ...transition,
    },
  },
  Pass: {
    type: "object",
    description: "Places a value in the data, or passes the data on unchanged.",
    required: ["name", "type"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Pass" },
      value: { format: "template", description: "The value, templated. Default: the data itself." },
      result: resultPath("Where the value lands. Default: it replaces the data."),
      ...transition,
    },
  },
  Succeed: {
    type: "object",
    description: "Ends its flow successfully.",
    required: ["name", "type"],
    additionalProperties: false,
    properties: { ...common, type: { const: "Succeed" } },
  },
  Fail: {
    type: "object",
    description: "Ends the workflow with an error.",
    required: ["name", "type"],
    additionalProperties: false,
    properties: {
      ...common,
      type: { const: "Fail" },
      error: {
        type: "string",
        pattern: "^[A-Za-z_][A-Za-z0-9_.]*$",
        default: "Cascade.Failed",
        description: "The error's name, which callers and parent catchers match on.",
      },
      cause: { type: "string", format: "template", description: "A readable reason, templated." },
    },
  },
};

const errorNames: JsonSchema = {
  type: "array",
  minItems: 1,
  items: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_.]*$" },
  description: "Error names to match; ALL matches every error.",
};

/** The whole CDL schema, draft-07, as published in `schema/cdl.schema.json`. */
export const CDL_SCHEMA: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://cascade.dev/schema/cdl.schema.json",
  title: "Cascade workflow (CDL)",
  description: "A Cascade workflow: states, their transitions and the data they pass.",
  type: "object",
  required: ["states"],
  additionalProperties: false,
  properties: {
    name: {
      type: "string",
      pattern: "^[A-Za-z][A-Za-z0-9_-]*$",
      maxLength: MAX_NAME_LENGTH,
      description: "The workflow's name. Default: the file name without its extension.",
    },
    description: { type: "string" },
    timeout: duration(
      "The whole execution's limit; past it the execution fails with Cascade.Timeout.",
    ),
    start_at: stateName("The first state. Default: the first state listed."),
    input_schema: {
      type: "object",
      description: "A JSON Schema the input must satisfy when an execution starts.",
    },
    states: { type: "array", minItems: 1, items: ref("State") },
  },
  definitions: {
    State: {
      description: "One state; its type decides its keys.",
      oneOf: STATE_TYPES.map((type) => ref(type)),
    },
    ...stateSchemas,
    Branch: {
      description: "A Parallel branch: one state (the seed form), or a named list of states.",
      oneOf: [
        ref("State"),
        {
          type: "object",
          required: ["name", "states"],
          additionalProperties: false,
          properties: {
            ...common,
            start_at: stateName("The branch's first state. Default: the first listed."),
            states: { type: "array", minItems: 1, items: ref("State") },
            result: resultPath(
              "Where the branch's output lands in the parent's data. Default: nowhere.",
            ),
          },
        },
      ],
    },
    ChoiceRule: {
      type: "object",
      required: ["condition", "next"],
      additionalProperties: false,
      properties: {
        condition: {
          type: "string",
          format: "condition",
          description: 'A {{ }} expression, e.g. "{{ $.valid == false }}".',
        },
        next: stateName("Where to go when the condition is true."),
        comment: { type: "string" },
      },
    },
    Retrier: {
      type: "object",
      additionalProperties: false,
      properties: {
        errors: { ...errorNames, default: ["ALL"] },
        max_attempts: {
          type: "integer",
          minimum: 1,
          maximum: 1000,
          default: 3,
          description: "Total attempts, the first included.",
        },
        interval: { ...duration("The delay before the first retry."), default: "1s" },
        backoff_rate: {
          type: "number",
          minimum: 1,
          maximum: 100,
          default: 2,
          description: "Each delay is the previous one times this.",
        },
        max_interval: duration("The longest delay between attempts."),
        jitter: {
          enum: ["full", "none"],
          default: "none",
          description: "full: each delay is drawn uniformly between 0 and its computed value.",
        },
      },
    },
    Catcher: {
      type: "object",
      required: ["next"],
      additionalProperties: false,
      properties: {
        errors: { ...errorNames, default: ["ALL"] },
        result: resultPath(
          "Where the error ({name, message}) lands. Default: it replaces the data.",
        ),
        next: stateName("Where to go when the error matches."),
      },
    },
    ...ITEM_SCHEMAS,
    Cache: {
      type: "object",
      required: ["key"],
      additionalProperties: false,
      description: "Caches the activity's result under a templated key.",
      properties: {
        key: {
          type: "string",
          format: "template",
          description: 'e.g. "validate:{{ $.order.id }}"',
        },
        ttl: { ...duration("How long a cached result is served."), default: "5m" },
      },
    },
  },
};
