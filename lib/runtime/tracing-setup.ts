/**
 * The tracer of a function or of `cascade dev`, from its environment: off unless
 * `CASCADE_TRACES=otlp`, then spans go in batches to the OTLP/HTTP endpoint of the
 * standard `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (and
 * headers) variables, e.g. an OpenTelemetry collector or the ADOT Lambda layer's.
 * The SDK and exporter load only when tracing is on.
 */
import type { Tracer } from "@opentelemetry/api";
import { ENV } from "../manifest/index.ts";
import { TRACER_NAME } from "./tracing.ts";

/** The variable that turns tracing on: `otlp` (anything else, or unset: off); the construct sets it from cascade.yaml's `tracing`. */
export const TRACES_ENV = ENV.TRACES;

export interface Tracing {
  readonly tracer: Tracer;
  /** Exports what is pending (call before a Lambda invocation returns, or on shutdown). */
  flush(): Promise<void>;
}

/** The tracer the environment asks for, or undefined when tracing is off. */
export async function tracingFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  serviceName: string,
): Promise<Tracing | undefined> {
  if (env[TRACES_ENV] !== "otlp") return undefined;
  const [
    { BasicTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  return {
    tracer: provider.getTracer(TRACER_NAME),
    flush: () => provider.forceFlush(),
  };
}
