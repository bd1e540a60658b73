import { ROOT_CONTEXT, trace, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ScoringJob } from '../../../contracts/src/index.js';

const propagator = new W3CTraceContextPropagator();

const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => (carrier[key] = value),
};
const getter = {
  get: (carrier: Record<string, string>, key: string) => carrier[key],
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
};

/** The W3C trace context (`traceparent`, `tracestate`) of `context`, for a job's `trace` field. */
export function injectTrace(context: Context): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, setter);
  return carrier.traceparent ? carrier : undefined;
}

/** The context a job's `trace` field carries, or undefined when it carries none. */
export function extractTrace(carrier: Record<string, string> | undefined): Context | undefined {
  if (!carrier?.traceparent) return undefined;
  const context = propagator.extract(ROOT_CONTEXT, carrier, getter);
  return trace.getSpanContext(context) ? context : undefined;
}

/** The span context of a job's trace parent, if it carries one. */
export function jobSpanContext(job: Pick<ScoringJob, 'trace'>): SpanContext | undefined {
  const context = extractTrace(job.trace);
  return context ? trace.getSpanContext(context) : undefined;
}

/** Links from a batch span to each traced job in it. */
export function jobLinks(jobs: Pick<ScoringJob, 'trace' | 'id'>[]): Link[] {
  const links: Link[] = [];
  for (const job of jobs) {
    const context = jobSpanContext(job);
    if (context) links.push({ context, attributes: { 'messaging.message.id': job.id } });
  }
  return links;
}
