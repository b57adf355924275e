/**
 * The JSON Schema of `cascade.yaml`, interpreted by the same validator as CDL
 * (`lib/core/cdl/structure.ts`), so unknown keys, wrong types and bad values get
 * the same line, column and "did you mean" as a workflow. Cross-field rules
 * (trigger targets exist, no duplicate routes) live in `config.ts`.
 */
import type { JsonSchema } from "../core/cdl/index.ts";
import { LAMBDA_MAX_MEMORY_MB, LAMBDA_MIN_MEMORY_MB } from "../manifest/index.ts";
import {
  ALERTS_SCHEMA,
  FOREIGN_KEYS,
  RESOURCE_BOUNDS,
  SCALING_EXTRAS,
  TEMPORAL_SCHEMA,
} from "./operations-config.ts";

/** `secretsmanager:<name or ARN>[#<JSON key>]` or `ssm:<parameter name or ARN>`. */
export const SECRET_REF_PATTERN = "^(secretsmanager:[^#\\s]+(#[^#\\s]+)?|ssm:[^\\s]+)$";
/** `service:Action`, wildcards allowed, or `*`. */
export const IAM_ACTION_PATTERN = "^(\\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$";

/** The levels `logging.level` takes (Lambda's application log levels, lowercase). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** Accepted keys of other platforms (each gets a warning, see operations-config.ts). */
const foreign = (block: keyof typeof FOREIGN_KEYS): Record<string, JsonSchema> =>
  Object.fromEntries(
    FOREIGN_KEYS[block].map((key) => [
      key,
      { description: "Accepted with a warning: see docs/config.md for what to write instead." },
    ]),
  );

const duration = (description: string): JsonSchema => ({
  type: "string",
  format: "duration",
  description,
});
const count = (description: string, minimum = 0, maximum?: number): JsonSchema => ({
  type: "integer",
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
  description,
});

/** `512`, `512Mi`, `1Gi`, `1024MB`: a size in megabytes or with a unit. */
export const MEMORY_PATTERN = "^[0-9]+(?:\\.[0-9]+)?\\s*(?:Mi|MiB|MB|M|Gi|GiB|GB|G)$";

const memory: JsonSchema = {
  oneOf: [
    {
      type: "integer",
      minimum: LAMBDA_MIN_MEMORY_MB,
      maximum: LAMBDA_MAX_MEMORY_MB,
      description: "Megabytes.",
    },
    { type: "string", pattern: MEMORY_PATTERN, description: "e.g. 512Mi, 1Gi, 1024MB." },
  ],
};

const deployment = (role: string): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  description: `How the ${role} runs. On Lambda: memory and timeout; replicas and cpu have no Lambda meaning (see docs/deploy.md).`,
  properties: {
    memory,
    timeout: duration("The function's timeout (Lambda allows up to 15m)."),
    replicas: count(
      "Accepted for compatibility; Lambda scales by itself (use autoscaling instead).",
    ),
    cpu: {
      type: ["string", "number"],
      description: "Accepted; Lambda's CPU grows with memory.",
    },
    resources: {
      type: "object",
      additionalProperties: false,
      description:
        "Kubernetes-style resources: memory (or limits.memory, else requests.memory) is Lambda memory; cpu is accepted with a warning.",
      properties: {
        memory,
        cpu: { type: ["string", "number"] },
        requests: RESOURCE_BOUNDS,
        limits: RESOURCE_BOUNDS,
      },
    },
  },
});

const scaling = (role: string): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  description: `Concurrency bounds of the ${role}.`,
  properties: {
    min: count("Warm instances kept ready (Lambda provisioned concurrency). Default 0."),
    max: count("The most instances at once (Lambda maximum concurrency).", 1),
    target_utilization: {
      type: "number",
      minimum: 0,
      maximum: 1,
      description: "Accepted with a warning: scaling follows queue depth (target_queue_depth).",
    },
    ...SCALING_EXTRAS,
  },
});

/** An environment variable's value: a string (numbers and booleans are written as text). */
const envValue: JsonSchema = { type: ["string", "number", "boolean"] };

/**
 * `activities:` as a mapping: where the modules are, and what the functions that run
 * them get on AWS (locally, environment and secrets come from `<app>/.env`).
 */
export const ACTIVITIES_BLOCK: JsonSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "Where the activities are and what they get: IAM permissions, environment variables and secrets (docs/config.md).",
  properties: {
    path: {
      type: "string",
      description: "Activity module or folder of modules. Default `activities`.",
    },
    environment: {
      type: "object",
      additionalProperties: envValue,
      description:
        "Environment variables of the functions that run activities (engine, workers). Locally: the same names from .env or the environment.",
    },
    secrets: {
      type: "object",
      additionalProperties: {
        type: "string",
        pattern: SECRET_REF_PATTERN,
        description:
          "secretsmanager:<name or ARN>[#<JSON key>] or ssm:<parameter name or ARN>; read at cold start into this variable.",
      },
      description:
        "Environment variables whose values are read from Secrets Manager or SSM Parameter Store when a function starts. Locally: from .env or the environment.",
    },
    permissions: {
      type: "array",
      description: "IAM statements added to the role of every function that runs activities.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["actions", "resources"],
        properties: {
          effect: { enum: ["Allow", "Deny"], description: "Default Allow." },
          actions: {
            type: "array",
            minItems: 1,
            items: { type: "string", pattern: IAM_ACTION_PATTERN },
            description: "e.g. ses:SendEmail, s3:GetObject, dynamodb:*.",
          },
          resources: {
            type: "array",
            minItems: 1,
            items: { type: "string", pattern: "^(\\*|arn:.+)$" },
            description: "ARNs (wildcards allowed) or *.",
          },
        },
      },
    },
  },
};

/** The whole `cascade.yaml` schema, draft-07. */
export const APP_CONFIG_SCHEMA: JsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://cascade.dev/schema/cascade.schema.json",
  title: "Cascade app (cascade.yaml)",
  description: "An app: its name, where its workflows and activities live, and how it runs.",
  type: "object",
  additionalProperties: false,
  properties: {
    name: {
      type: "string",
      pattern: "^[a-z][a-z0-9-]*$",
      maxLength: 40,
      description: "The app's name: lower case, digits and dashes. Default: the folder's name.",
    },
    description: { type: "string" },
    workflows: { type: "string", description: "Folder of workflow files. Default `workflows`." },
    activities: {
      oneOf: [
        {
          type: "string",
          description: "Activity module or folder of modules. Default `activities`.",
        },
        ACTIVITIES_BLOCK,
      ],
    },
    retention: duration("How long ended executions are kept before they expire. Default 30d."),
    payloads: {
      type: "object",
      additionalProperties: false,
      properties: {
        offload_threshold: count(
          "Bytes above which data moves to S3 and is referenced. Default 204800 (200 KB).",
          1_024,
          256_000,
        ),
      },
    },
    auth: {
      type: "object",
      additionalProperties: false,
      description: "Who may call the HTTP API on AWS (locally the API is open).",
      properties: {
        type: {
          enum: ["none", "jwt", "iam"],
          description:
            "Default none: the API is open locally, and `cascade synth` refuses to deploy it unless `public: true`.",
        },
        public: {
          type: "boolean",
          description:
            "With type none: deploy an open API on purpose. Such an app serves exactly one tenant.",
        },
        principals: {
          type: "array",
          description:
            "With type iam: the IAM role or user that acts for each tenant (an ARN, or role/<name> of the API's account).",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["principal", "tenant"],
            properties: {
              principal: {
                type: "string",
                pattern:
                  "^(arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}|(role|user)/[A-Za-z0-9+=,.@_/-]{1,512})$",
              },
              tenant: { type: "string" },
            },
          },
        },
        issuer: { type: "string", pattern: "^https://", description: "JWT issuer URL." },
        audience: { type: "array", minItems: 1, items: { type: "string" } },
        tenant_claim: {
          type: "string",
          description: "The JWT claim naming the caller's tenant. Default `tenant`.",
        },
      },
    },
    triggers: {
      type: "array",
      description: "HTTP routes that start a workflow.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["path", "workflow"],
        properties: {
          method: { enum: ["GET", "POST", "PUT", "DELETE"], description: "Default POST." },
          path: {
            type: "string",
            pattern: "^/[A-Za-z0-9._~/-]*$",
            maxLength: 200,
            description: "e.g. /orders (outside /v1, which the API owns).",
          },
          workflow: { type: "string", description: "The workflow the request starts." },
          mode: {
            enum: ["async", "sync"],
            description: "async answers 202 at once; sync waits for the output. Default async.",
          },
          timeout: duration("How long a sync trigger waits (at most 29s). Default 25s."),
        },
      },
    },
    tracing: {
      type: "object",
      additionalProperties: false,
      description: "OpenTelemetry traces of the deployed functions (docs/deploy.md, Traces).",
      properties: {
        exporter: {
          enum: ["none", "otlp"],
          description:
            "otlp: a span per transition and per activity attempt, one trace per execution, over OTLP/HTTP. Default none.",
        },
        endpoint: {
          type: "string",
          pattern: "^https?://[^\\s/]+(?:/\\S*)?$",
          description:
            "The collector's OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT). Default: the SDK's, http://localhost:4318 (the ADOT Lambda layer's collector).",
        },
      },
    },
    logging: {
      type: "object",
      additionalProperties: false,
      description: "The functions' logs (Lambda's JSON log format, Powertools Logger).",
      properties: {
        level: {
          enum: [...LOG_LEVELS],
          description:
            "The lowest level written (ctx.logger and Cascade's own lines): Lambda's application log level. Default info.",
        },
      },
    },
    database: {
      type: "object",
      additionalProperties: false,
      description: "The store's connection pool.",
      properties: {
        max_connections: count("Sockets kept open to the store per process. Default 50.", 1, 1_000),
        idle_timeout: duration("An idle socket closes after this. Default 60s."),
        max_lifetime: duration("A socket is recycled after this. Default 30m."),
        validation_interval: duration("How often idle sockets are checked. Default 30s."),
        ...foreign("database"),
      },
    },
    tenants: {
      oneOf: [
        {
          type: "array",
          minItems: 1,
          items: { type: "string", pattern: "^[a-z0-9][a-z0-9-]*$", maxLength: 40 },
          description: "Tenant names, pooled in one table.",
        },
        {
          type: "object",
          additionalProperties: false,
          properties: {
            isolation: {
              enum: ["pooled", "silo"],
              description: "pooled: one table, keys prefixed by tenant; silo: a table each.",
            },
            names: {
              type: "array",
              minItems: 1,
              items: { type: "string", pattern: "^[a-z0-9][a-z0-9-]*$", maxLength: 40 },
            },
          },
        },
      ],
    },
    deployments: {
      type: "object",
      additionalProperties: false,
      properties: {
        api: deployment("HTTP API"),
        engine: deployment("engine (transitions and in-line activities)"),
        workers: deployment("dedicated activity workers"),
      },
    },
    autoscaling: {
      type: "object",
      additionalProperties: false,
      description:
        "Per role (api, engine, workers); the HPA-style keys at this level apply to the workers (the functions that run activities).",
      properties: {
        api: scaling("HTTP API"),
        engine: scaling("engine"),
        workers: scaling("workers"),
        ...SCALING_EXTRAS,
        target_utilization: {
          type: "number",
          minimum: 0,
          maximum: 1,
          description: "Accepted with a warning: scaling follows queue depth (target_queue_depth).",
        },
      },
    },
    alerts: ALERTS_SCHEMA,
    temporal: TEMPORAL_SCHEMA,
    messaging: {
      type: "object",
      additionalProperties: false,
      description: "How queues feed the functions.",
      properties: {
        batch_size: count("Messages per invocation (1–10). Default 10.", 1, 10),
        batching_window: duration("How long to gather a batch (up to 5m). Default 0s."),
        max_receive_count: count(
          "Receives before a message goes to the dead-letter queue. Default 5.",
          1,
          1_000,
        ),
        visibility_timeout: duration(
          "How long a received message stays hidden. Default: six times the function timeout.",
        ),
        ...foreign("messaging"),
      },
    },
    cache: {
      type: "object",
      additionalProperties: false,
      description: "The activity result cache (ElastiCache Serverless Valkey on AWS).",
      properties: {
        enabled: { type: "boolean", description: "Default false." },
        ttl: duration(
          "The default TTL of an activity's ctx.cache.set (a Task's cache: policy has its own ttl). Default 5m.",
        ),
        max_memory: {
          type: "string",
          pattern: "^\\s*[0-9]+(?:\\.[0-9]+)?\\s*[KkMmGgTt](?:[iI]?[bB]?)\\s*$",
          description:
            "The cache's data storage limit on AWS (ElastiCache Serverless, whole GB, up to 5000): 4gb, 512mb. Default: no limit.",
        },
        ...foreign("cache"),
      },
    },
    reconciler: {
      type: "object",
      additionalProperties: false,
      description:
        "The scheduled function that re-sends what idle executions committed but never sent (AWS only; cascade dev runs it every 5s).",
      properties: {
        every: duration("How often it runs, in whole minutes (1m to 1d). Default 5m."),
        reserved_concurrency: {
          enum: [0, 1],
          description:
            "1 reserves one instance, so runs never overlap; 0 reserves none (an account whose concurrency quota is 100 or less cannot reserve any). Default 1.",
        },
      },
    },
    platform: {
      type: "object",
      additionalProperties: false,
      properties: {
        region: {
          type: "string",
          pattern: "^[a-z]{2}(?:-[a-z]+)+-[0-9]$",
          description: "Default: the CDK environment's.",
        },
        architecture: { enum: ["arm64", "x86_64"], description: "Default arm64." },
        ...foreign("platform"),
      },
    },
  },
};
