import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { ScoringJob, ScoringReply } from '#contracts';
import type { CallerGone, ScoringTransport } from '#runtime';
import { deploymentOf, injectTrace, type Tracing } from '#telemetry';
import { takeJobObservation } from './request-scope.js';

/**
 * Wraps the transport's `submit` in place (the instance keeps its class, which other modules
 * check): the request's first job is noted for its metrics labels, and with tracing on each job
 * gets an `enqueue <queue>` producer span whose W3C context travels in `job.trace` to the
 * worker. The span ends when the reply comes, so the worker's spans sit inside it.
 */
export function instrumentTransport(transport: ScoringTransport, tracing: Tracing): void {
  instrumentEnqueue(transport as AsyncCapable, tracing);
  const submit = transport.submit.bind(transport);
  transport.submit = (job: ScoringJob, gone?: CallerGone): Promise<ScoringReply> => {
    const observation = takeJobObservation(job);
    // The request's own job labels its metrics; mirrored copies and later jobs do not.
    const primary = observation && !job.mirror && observation.job === undefined ? observation : undefined;
    if (primary) primary.job = job;
    if (!tracing.enabled) {
      return primary ? submit(job, gone).then((reply) => (primary.reply = reply)) : submit(job, gone);
    }
    const span = enqueueSpan(job, tracing, observation?.context);
    return submit(job, gone).then((reply) => {
      if (primary) primary.reply = reply;
      if (reply.ok) span.setAttribute('switchyard.version', reply.version);
      else span.setStatus({ code: SpanStatusCode.ERROR, message: `${reply.status} ${reply.error}` });
      span.end();
      return reply;
    });
  };
}

/** A transport that can also enqueue jobs nobody waits for (async jobs). */
type AsyncCapable = ScoringTransport & { enqueue?: (job: ScoringJob) => Promise<void> };

/** Async jobs: labelled and traced the same way; their enqueue span ends once the job is queued. */
function instrumentEnqueue(transport: AsyncCapable, tracing: Tracing): void {
  if (typeof transport.enqueue !== 'function') return;
  const enqueue = transport.enqueue.bind(transport);
  transport.enqueue = (job: ScoringJob): Promise<void> => {
    const observation = takeJobObservation(job);
    if (observation && !job.mirror && observation.job === undefined) observation.job = job;
    if (!tracing.enabled) return enqueue(job);
    const span = enqueueSpan(job, tracing, observation?.context);
    return enqueue(job).finally(() => span.end());
  };
}

/** Starts the producer span of a job and puts its W3C context into `job.trace`. */
function enqueueSpan(job: ScoringJob, tracing: Tracing, requestContext: Context | undefined): Span {
  const parent = requestContext ?? context.active();
  const queue = job.queue ?? job.model;
  const span = tracing.tracer.startSpan(
    `enqueue ${queue}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': queue,
        'messaging.message.id': job.id,
        'switchyard.model': job.model,
        'switchyard.deployment': deploymentOf(job),
      },
    },
    parent,
  );
  job.trace = injectTrace(trace.setSpan(parent, span));
  return span;
}
