/**
 * OpenTelemetry traces, off by default: a span per transition (each message the runtime
 * handles) and per activity attempt, all of one execution in one trace across hops and
 * processes. The trace id is derived from the execution (its workflow and id), so every
 * function that handles a message of it joins the same trace without a header to carry.
 * Applied at the edges: a wrapper around the runtime's `handle` and around each activity
 * function; the runtime itself is untouched. Uses only `@opentelemetry/api`: the
 * provider and exporter (OTLP, or in memory in tests) are the composition root's.
 */
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
import type { ActivityContext, ActivityFunction } from "./activities.ts";
import type { Envelope, Runtime } from "./runtime.ts";

/** The instrumentation scope's name. */
export const TRACER_NAME = "cascade";

/**
 * The ids of an execution's trace: a 32-hex trace id and the 16-hex id of its (virtual)
 * root span, from a hash of the workflow and the execution id.
 */
export function executionTraceIds(
  workflow: string,
  executionId: string,
): { traceId: string; spanId: string } {
  const hash = createHash("sha256").update(`${workflow}\u0000${executionId}`).digest("hex");
  return { traceId: hash.slice(0, 32), spanId: hash.slice(32, 48) };
}

/** The context whose parent is the execution's root: spans started in it join its trace. */
export function executionContext(workflow: string, executionId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    ...executionTraceIds(workflow, executionId),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

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
    return await run(span);
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
 * The runtime with a span around each `handle` (one transition: `cascade.transition`),
 * in its execution's trace. Everything else passes through.
 */
export function traceRuntime(runtime: Runtime, tracer: Tracer): Runtime {
  return new Proxy(runtime, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
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
          executionContext(header.workflow, header.executionId),
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

/** Each activity wrapped in a span per attempt (`cascade.activity <name>`), in its execution's trace. */
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
        executionContext(ctx.workflow, ctx.executionId),
        SpanKind.INTERNAL,
        async () => (await fn(input, ctx)) as unknown,
      ),
    );
  }
  return traced;
}
