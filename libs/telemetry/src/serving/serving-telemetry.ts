import type { Registry } from 'prom-client';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import {
  setServingObserver,
  type BatchExecution,
  type CaptureConfig,
  type ConsumerMarks,
  type JobMarks,
  type JobOutcome,
  type ServingObserver,
  type WorkerStatsSnapshot,
} from '../../../runtime/src/index.js';
import { PayloadCapture } from '../capture/payload-capture.js';
import { deploymentOf, jobLabels } from '../metrics/labels.js';
import { WorkerMetrics, type QueueCounts, type ServedModelInfo } from '../metrics/worker-metrics.js';
import { RollingStats } from '../stats/rolling-stats.js';
import type { Tracing } from '../tracing/tracing.js';
import { WorkerSpans } from '../tracing/worker-spans.js';

/** @see ServingTelemetry */
export interface ServingTelemetryOptions {
  registry: Registry;
  tracing: Tracing;
  /** What this process serves now (read at scrape time; follows hot switches). */
  served: () => ServedModelInfo[];
  /** BullMQ counts of the queues served, in distributed mode. @defaultValue none */
  queueCounts?: () => Promise<QueueCounts[]>;
  /** The capture block of a served model's current config. @defaultValue no capture */
  captureConfig?: (model: string) => CaptureConfig | undefined;
}

/**
 * Watches the serving path of a worker (or of the embedded API) through the runtime's observer
 * hooks: Prometheus metrics, a rolling window for heartbeats and the status page, the worker's
 * spans of each traced request, and payload capture.
 */
export class ServingTelemetry implements ServingObserver {
  readonly metrics: WorkerMetrics;
  private readonly spans: WorkerSpans | undefined;
  private readonly windows = new Map<string, RollingStats>();
  private readonly captures = new Map<string, PayloadCapture>();

  constructor(private readonly options: ServingTelemetryOptions) {
    this.metrics = new WorkerMetrics(options.registry, { served: options.served, queueCounts: options.queueCounts });
    this.spans = options.tracing.enabled ? new WorkerSpans(options.tracing.tracer) : undefined;
  }

  /** Starts observing every model server and queue consumer of this process. */
  install(): this {
    setServingObserver(this);
    return this;
  }

  jobDone(job: ScoringJob, reply: ScoringReply, outcome: JobOutcome, marks: JobMarks): void {
    const labels = jobLabels(job, reply.ok ? reply.version : job.version);
    const t = reply.ok ? reply.timings : undefined;
    this.metrics.observeJob(labels, outcome, {
      queueMs: t?.queue,
      preprocessMs: t?.preprocess,
      inferenceMs: t?.inference,
    });
    this.window(labels.deployment).recordJob(outcome, Date.now() - job.acceptedAt);
    this.spans?.jobDone(job, reply, outcome, marks);
    this.captureFor(job.model)?.offer(job, reply, outcome);
  }

  batchExecuted(batch: BatchExecution): void {
    const first = batch.jobs[0];
    const deployment = first ? deploymentOf(first) : batch.model;
    this.metrics.observeBatch({ deployment, model: batch.model, version: batch.version }, batch.jobs.length);
    this.window(deployment).recordBatch(batch.jobs.length);
    this.spans?.batchExecuted(batch);
  }

  jobPickedUp(job: ScoringJob, attempt: number): void {
    if (attempt > 1) this.metrics.jobRetried({ deployment: deploymentOf(job), model: job.model });
  }

  jobFinished(job: ScoringJob, _reply: ScoringReply, marks: ConsumerMarks): void {
    this.spans?.jobFinished(job, marks);
  }

  /** Counts and the rolling window of one deployment, for heartbeats and the status page. */
  snapshot(deployment: string): WorkerStatsSnapshot {
    return this.window(deployment).snapshot();
  }

  /** Stops observing and writes out what capture still holds. */
  async shutdown(): Promise<void> {
    setServingObserver(undefined);
    await Promise.all([...this.captures.values()].map((c) => c.close()));
  }

  private window(deployment: string): RollingStats {
    let w = this.windows.get(deployment);
    if (!w) this.windows.set(deployment, (w = new RollingStats()));
    return w;
  }

  /** The capture of a model, rebuilt when its config changed (a new version was switched in). */
  private captureFor(model: string): PayloadCapture | undefined {
    const config = this.options.captureConfig?.(model);
    const current = this.captures.get(model);
    if (current?.config === config) return config?.enabled ? current : undefined;
    if (current) void current.close();
    if (!config?.enabled) {
      this.captures.delete(model);
      return undefined;
    }
    const next = new PayloadCapture(model, config);
    this.captures.set(model, next);
    return next;
  }
}
