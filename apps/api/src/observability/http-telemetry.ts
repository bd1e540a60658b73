import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  chooseRequestId,
  extractTrace,
  isProbe,
  jobLabels,
  requestTraceIds,
  type ApiMetrics,
  type ScoringLabels,
  type Tracing,
} from '#telemetry';
import { observations, type RequestObservation } from './request-scope.js';

/** Scoring routes, by their Fastify route pattern (OIP infer and the friendly predict routes). */
const SCORING_ROUTE = /(?:\/infer|^\/v1\/models\/:target|^\/v1\/models\/:model\/versions\/:target)$/;

/**
 * Fastify hooks of the API's telemetry. `onRequest` sets the request id (`x-request-id`, echoed),
 * opens the request's observation and, with
 * tracing on, its HTTP server span (continuing a caller's `traceparent`); `onResponse` counts
 * scoring requests by label and status, observes their end-to-end latency, and ends the span.
 * Probes (health, metrics) are neither traced nor counted. Add before the routes are built.
 */
export function installHttpTelemetry(fastify: FastifyInstance, metrics: ApiMetrics, tracing: Tracing): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    // The request id (logged by pino-http, which takes Fastify's) is the caller's, or new; echoed.
    (request as { id: string }).id = chooseRequestId(request.headers['x-request-id']);
    void reply.header('x-request-id', request.id);
    if (isProbe(request.url)) return done();
    const observation: RequestObservation = {};
    if (tracing.enabled) {
      const parent = extractTrace(traceHeaders(request)) ?? ROOT_CONTEXT;
      const route = request.routeOptions.url;
      const span = tracing.tracer.startSpan(
        route ? `${request.method} ${route}` : request.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'url.path': request.url.split('?')[0],
            ...(route ? { 'http.route': route } : {}),
          },
        },
        parent,
      );
      observation.span = span;
      observation.context = trace.setSpan(parent, span);
      requestTraceIds.set(request.raw, span.spanContext().traceId);
    }
    observations.set(request.raw, observation);
    done();
  });
  const finish = (request: FastifyRequest, status: number, seconds: number): void => {
    const observation = observations.get(request.raw);
    if (!observation) return;
    observations.delete(request.raw);
    const labels = scoringLabels(request, observation, status);
    if (labels) metrics.observeRequest(labels, status, seconds);
    const span = observation.span;
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    finish(request, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    finish(request, 499, 0);
    done();
  });
}

/**
 * Labels of a scoring request: from its job when one was submitted (so endpoint and deployment
 * are the job's), else from the route (refused or invalid before enqueueing). An unknown model
 * (404) is labelled `model=""`, so made-up names cannot grow the label set.
 */
function scoringLabels(
  request: FastifyRequest,
  observation: RequestObservation,
  status: number,
): ScoringLabels | undefined {
  const { job, reply } = observation;
  if (job) return jobLabels(job, reply?.ok ? reply.version : job.version);
  if (request.method !== 'POST' || !SCORING_ROUTE.test(request.routeOptions.url ?? '')) return undefined;
  if (status === 404) return { endpoint: '', deployment: '', model: '', version: '' };
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  const model = params.model ?? stripVerb(params.target) ?? '';
  const version = (params.model ? stripVerb(params.target) : undefined) ?? params.version ?? '';
  return { endpoint: '', deployment: model, model, version };
}

function stripVerb(target: string | undefined): string | undefined {
  return target?.replace(/:predict$/, '');
}

function traceHeaders(request: FastifyRequest): Record<string, string> | undefined {
  const { traceparent, tracestate } = request.headers;
  if (typeof traceparent !== 'string') return undefined;
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}
