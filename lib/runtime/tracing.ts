/**
 * OpenTelemetry traces, off by default: a root span per execution (`cascade.execution`,
 * made by the start), a span per transition (each message the runtime handles) and per
 * activity attempt, all of one execution in one trace across hops and processes. The
 * start's W3C `traceparent` is written into the execution's header, which every message
 * carries, so each function that handles a message joins that trace; two tenants that
 * reuse an execution id get two traces. Applied at the edges: a wrapper around the
 * runtime's `startExecution` and `handle` and around each activity function. Uses only
 * `@opentelemetry/api`: the provider and exporter (OTLP, or in memory in tests) are the
 * composition root's.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { ExecutionHeader } from "../core/ports.ts";
import type { ActivityContext, ActivityFunction } from "./activities.ts";
import type { Envelope, Runtime } from "./runtime.ts";

/** The instrumentation scope's name. */
export const TRACER_NAME = "cascade";

/** A W3C trace context header (version 00): `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C `traceparent` of a span context. */
export function formatTraceparent(ids: {
  traceId: string;
  spanId: string;
  traceFlags: number;
}): string {
  return `00-${ids.traceId}-${ids.spanId}-${ids.traceFlags.toString(16).padStart(2, "0")}`;
}

/** The trace and parent span of a `traceparent`, or undefined when it is not one (or all zeros). */
export function parseTraceparent(
  value: string | undefined,
): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  if (/^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2], traceFlags: Number.parseInt(match[3], 16) };
}

/**
 * The ids of the trace of an execution started without a `traceparent` (tracing was off
 * at its start): a 32-hex trace id and a 16-hex virtual root span id, from a hash of its
 * tenant, workflow, id and start time, so tenants that reuse an id are still apart.
 */
export function derivedTraceIds(header: {
  readonly tenant: string;
  readonly workflow: string;
  readonly executionId: string;
  readonly startedAt: number;
}): { traceId: string; spanId: string } {
  const hash = createHash("sha256")
    .update(
      `${header.tenant}\u0000${header.workflow}\u0000${header.executionId}\u0000${header.startedAt}`,
    )
    .digest("hex");
  return { traceId: hash.slice(0, 32), spanId: hash.slice(32, 48) };
}

/** The context whose parent is the execution's root span: spans started in it join its trace. */
export function executionContext(header: ExecutionHeader): Context {
  const parsed = parseTraceparent(header.traceparent);
  return trace.setSpanContext(ROOT_CONTEXT, {
    ...(parsed ?? { ...derivedTraceIds(header), traceFlags: TraceFlags.SAMPLED }),
    isRemote: true,
  });
}

/** The context of the transition being handled, for the activity attempts it runs. */
const current = new AsyncLocalStorage<Context>();

async function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  parent: Context,
  kind: SpanKind,
  run: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  try {
    return await current.run(trace.setSpan(parent, span), () => run(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: (error as Error)?.message ?? String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/** The span attributes of a message. */
function messageAttributes(envelope: Envelope, receiveCount: number): Attributes {
  const { body } = envelope;
  const header = body.header;
  return {
    "cascade.app": header.app,
    "cascade.tenant": header.tenant,
    "cascade.workflow": header.workflow,
    "cascade.execution": header.executionId,
    "cascade.message.kind": body.kind,
    "cascade.message.id": envelope.mid,
    "messaging.system": "aws_sqs",
    "messaging.message.delivery_count": receiveCount,
    ...(body.kind === "run"
      ? {
          "cascade.state": body.state,
          "cascade.activity": body.activity,
          "cascade.attempt": body.token.attempt,
        }
      : {}),
  };
}

/**
 * The runtime with a root span made by each `startExecution` (`cascade.execution <workflow>`,
 * a new trace whose `traceparent` the execution's header keeps) and a span around each
 * `handle` (one transition: `cascade.transition`), in its execution's trace. Everything
 * else passes through.
 */
export function traceRuntime(runtime: Runtime, tracer: Tracer): Runtime {
  return new Proxy(runtime, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === "startExecution" && typeof value === "function") {
        const start = value as Runtime["startExecution"];
        return (
          workflow: string,
          input: Parameters<Runtime["startExecution"]>[1],
          options: Parameters<Runtime["startExecution"]>[2] = {},
        ) =>
          inSpan(
            tracer,
            `cascade.execution ${workflow}`,
            {
              "cascade.workflow": workflow,
              "cascade.tenant": options.tenant ?? "default",
              ...(options.id === undefined ? {} : { "cascade.execution": options.id }),
            },
            ROOT_CONTEXT,
            SpanKind.PRODUCER,
            async (span) => {
              const started = await start.call(target, workflow, input, {
                ...options,
                traceparent: formatTraceparent(span.spanContext()),
              });
              span.setAttributes({
                "cascade.execution": started.executionId,
                "cascade.start.created": started.created,
              });
              return started;
            },
          );
      }
      if (property !== "handle" || typeof value !== "function") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      const handle = value as Runtime["handle"];
      return (envelope: Envelope, receiveCount = 1, ...rest: unknown[]) => {
        const header = envelope.body.header;
        const name =
          envelope.body.kind === "run"
            ? `cascade.transition ${envelope.body.state}`
            : `cascade.transition ${envelope.body.kind}`;
        return inSpan(
          tracer,
          name,
          messageAttributes(envelope, receiveCount),
          executionContext(header),
          SpanKind.CONSUMER,
          () =>
            (handle as (...args: unknown[]) => ReturnType<Runtime["handle"]>).call(
              target,
              envelope,
              receiveCount,
              ...rest,
            ),
        );
      };
    },
  });
}

/**
 * Each activity wrapped in a span per attempt (`cascade.activity <name>`), a child of the
 * transition that runs it (so in its execution's trace).
 */
export function traceActivities(
  activities: ReadonlyMap<string, ActivityFunction>,
  tracer: Tracer,
): Map<string, ActivityFunction> {
  const traced = new Map<string, ActivityFunction>();
  for (const [name, fn] of activities) {
    traced.set(name, (input: never, ctx: ActivityContext) =>
      inSpan(
        tracer,
        `cascade.activity ${name}`,
        {
          "cascade.workflow": ctx.workflow,
          "cascade.execution": ctx.executionId,
          "cascade.state": ctx.state,
          "cascade.activity": ctx.activity,
          "cascade.attempt": ctx.attempt,
        },
        current.getStore() ?? ROOT_CONTEXT,
        SpanKind.INTERNAL,
        async () => (await fn(input, ctx)) as unknown,
      ),
    );
  }
  return traced;
}
