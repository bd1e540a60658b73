// Loaded only when tracing is on, so a process without tracing never loads the SDK.
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import type { TracingSettings } from './tracing.js';

/**
 * A Node tracer provider: resource from `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` (else
 * `serviceName`), sampler from `OTEL_TRACES_SAMPLER`, batching from `OTEL_BSP_*`, and the
 * exporter's endpoint and headers from `OTEL_EXPORTER_OTLP_*`.
 */
export async function createProvider(serviceName: string, settings: TracingSettings): Promise<RegistrableProvider> {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(await exporterFor(settings))],
  });
  return {
    register: () => provider.register({ propagator: new W3CTraceContextPropagator() }),
    shutdown: () => provider.shutdown(),
  };
}

export interface RegistrableProvider {
  register(): void;
  shutdown(): Promise<void>;
}

async function exporterFor(settings: TracingSettings): Promise<SpanExporter> {
  if (settings.exporter === 'console') return new ConsoleSpanExporter();
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}
