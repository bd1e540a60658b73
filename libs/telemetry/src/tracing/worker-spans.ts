import { SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Tracer } from '@opentelemetry/api';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { BatchExecution, ConsumerMarks, JobMarks, JobOutcome } from '../../../runtime/src/index.js';
import { deploymentOf } from '../metrics/labels.js';
import { extractTrace, jobLinks } from './job-trace.js';

interface Served {
  reply: ScoringReply;
  outcome: JobOutcome;
  marks: JobMarks;
}

/**
 * The worker's side of a request's trace, built when the job is finished from the times the
 * serving path recorded (so nothing traces on the hot path):
 *
 * ```
 * enqueue <q> (API) ─┬─ queue wait                      acceptedAt → picked up
 *                    └─ process <q> (consumer)          picked up → reply published
 *                         ├─ preprocess ├─ batch wait ├─ inference ├─ reply publish
 * batch <model> (its own trace, linked to every traced job in the batch)
 * ```
 */
export class WorkerSpans {
  /** Jobs the model server answered, until their consumer finishes them. */
  private readonly served = new WeakMap<ScoringJob, Served>();

  constructor(private readonly tracer: Tracer) {}

  jobDone(job: ScoringJob, reply: ScoringReply, outcome: JobOutcome, marks: JobMarks): void {
    if (!job.trace) return;
    // Embedded mode has no consumer: the model server's answer is the end of the job.
    if (job.replyTo === 'embedded') this.build(job, { reply, outcome, marks }, { pickedUpAt: marks.receivedAt });
    else this.served.set(job, { reply, outcome, marks });
  }

  jobFinished(job: ScoringJob, consumer: ConsumerMarks): void {
    const served = this.served.get(job);
    if (!served) return;
    this.served.delete(job);
    this.build(job, served, consumer);
  }

  batchExecuted(batch: BatchExecution): void {
    const links = jobLinks(batch.jobs);
    if (links.length === 0) return;
    const span = this.tracer.startSpan(
      `batch ${batch.model}`,
      {
        root: true,
        startTime: batch.startedAt,
        links,
        attributes: {
          'switchyard.model': batch.model,
          'switchyard.version': batch.version,
          'switchyard.batch.size': batch.jobs.length,
          'switchyard.batch.rows': batch.rows,
        },
      },
      undefined,
    );
    if (!batch.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: 'batch failed; items re-run alone' });
    span.end(batch.startedAt + batch.durationMs);
  }

  private build(job: ScoringJob, served: Served, consumer: ConsumerMarks): void {
    const parent = extractTrace(job.trace);
    if (!parent) return;
    const { marks, reply, outcome } = served;
    const queue = job.queue ?? job.model;
    const pickedUp = consumer.pickedUpAt;
    this.span('queue wait', parent, Math.min(job.acceptedAt, pickedUp), pickedUp);
    const end = consumer.publishedAt ?? marks.batchEndedAt ?? pickedUp;
    const attributes: Attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.message.id': job.id,
      'switchyard.model': job.model,
      'switchyard.deployment': deploymentOf(job),
      'switchyard.outcome': outcome,
    };
    if (reply.ok) {
      attributes['switchyard.version'] = reply.version;
      if (reply.timings.batchSize !== undefined) attributes['switchyard.batch.size'] = reply.timings.batchSize;
    }
    const process = this.tracer.startSpan(
      `process ${queue}`,
      { kind: SpanKind.CONSUMER, startTime: pickedUp, attributes },
      parent,
    );
    if (!reply.ok) process.setStatus({ code: SpanStatusCode.ERROR, message: `${reply.status} ${reply.error}` });
    const inside = trace.setSpan(parent, process);
    if (marks.preparedAt !== undefined) {
      this.span('preprocess', inside, marks.receivedAt, marks.preparedAt);
      if (marks.batchStartedAt !== undefined && marks.batchEndedAt !== undefined) {
        this.span('batch wait', inside, marks.preparedAt, marks.batchStartedAt);
        const size = reply.ok ? reply.timings.batchSize : undefined;
        this.span('inference', inside, marks.batchStartedAt, marks.batchEndedAt, {
          ...(size !== undefined ? { 'switchyard.batch.size': size } : {}),
        });
      }
    }
    if (consumer.publishStartedAt !== undefined && consumer.publishedAt !== undefined) {
      this.span('reply publish', inside, consumer.publishStartedAt, consumer.publishedAt, {}, SpanKind.PRODUCER);
    }
    process.end(Math.max(end, pickedUp));
  }

  private span(
    name: string,
    parent: Context,
    start: number,
    end: number,
    attributes: Attributes = {},
    kind = SpanKind.INTERNAL,
  ): void {
    this.tracer.startSpan(name, { kind, startTime: start, attributes }, parent).end(Math.max(start, end));
  }
}
