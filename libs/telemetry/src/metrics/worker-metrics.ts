import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  BATCH_SIZE_BUCKETS,
  DEPLOYMENT_LABELS,
  SCORING_LABELS,
  STAGE_BUCKETS_S,
  type ScoringLabels,
} from './labels.js';
import { withTimeout } from './registry.js';

/** A served model as the info gauge describes it. */
export interface ServedModelInfo {
  deployment: string;
  model: string;
  versions: string[];
  device: string;
  ready: boolean;
}

/** BullMQ's counts of one queue. */
export interface QueueCounts {
  deployment: string;
  model: string;
  /** Waiting: the direct lane plus BullMQ's `wait` and `prioritized`. */
  pending: number;
  active: number;
}

/** What the worker's gauges read when Prometheus scrapes. */
export interface WorkerMetricsSources {
  /** The models this process serves (one for a worker; every model when embedded). */
  served(): ServedModelInfo[];
  /** Queue counts, when there is a queue (distributed mode). */
  queueCounts?(): Promise<QueueCounts[]>;
}

type Labels = Record<string, string>;

/** Metrics of the serving side: jobs by outcome, stage latencies, batches. */
export class WorkerMetrics {
  private readonly jobs: Counter<string>;
  private readonly queueWait: Histogram<string>;
  private readonly preprocess: Histogram<string>;
  private readonly inference: Histogram<string>;
  private readonly batchSize: Histogram<string>;
  private readonly inferenceCount: Counter<string>;
  private readonly execCount: Counter<string>;
  private readonly retried: Counter<string>;

  constructor(registry: Registry, sources: WorkerMetricsSources) {
    const registers = [registry];
    const stage = (name: string, help: string): Histogram<string> =>
      new Histogram({ name, help, labelNames: [...SCORING_LABELS], buckets: STAGE_BUCKETS_S, registers });
    this.jobs = new Counter({
      name: 'switchyard_worker_jobs_total',
      help: 'Jobs answered by model servers, by outcome: succeeded, failed, expired (deadline passed, never run), cancelled (caller gone, never run).',
      labelNames: [...SCORING_LABELS, 'outcome'],
      registers,
    });
    this.queueWait = stage(
      'switchyard_queue_wait_seconds',
      'Time from acceptance by the API until the job’s batch started (queue plus batcher).',
    );
    this.preprocess = stage('switchyard_preprocess_seconds', 'Handler preprocessing time per job.');
    this.inference = stage('switchyard_inference_seconds', 'Run time of the batch each job ran in.');
    this.batchSize = new Histogram({
      name: 'switchyard_batch_size',
      help: 'Items (jobs) per batch execution.',
      labelNames: [...DEPLOYMENT_LABELS],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.inferenceCount = new Counter({
      name: 'switchyard_inference_count_total',
      help: 'Items (jobs) run by the model (Triton inference_count, counted in items).',
      labelNames: [...DEPLOYMENT_LABELS],
      registers,
    });
    this.execCount = new Counter({
      name: 'switchyard_execution_count_total',
      help: 'Session runs (batch executions; Triton exec_count). inference_count / execution_count = mean batch size.',
      labelNames: [...DEPLOYMENT_LABELS],
      registers,
    });
    this.retried = new Counter({
      name: 'switchyard_jobs_retried_total',
      help: 'Jobs picked up again after their worker stalled or died (BullMQ attemptsStarted > 1).',
      labelNames: ['deployment', 'model'],
      registers,
    });
    new Gauge({
      name: 'switchyard_worker_info',
      help: 'One series per served version: 1 when the worker is ready (model loaded, warm, Redis reachable), else 0.',
      labelNames: ['deployment', 'model', 'version', 'device'],
      registers,
      collect() {
        this.reset();
        for (const s of sources.served()) {
          for (const version of s.versions) {
            this.set({ deployment: s.deployment, model: s.model, version, device: s.device }, s.ready ? 1 : 0);
          }
        }
      },
    });
    if (sources.queueCounts) {
      const read = cachedFor(500, () => withTimeout(sources.queueCounts!(), 1000, []));
      const queueGauge = (name: string, help: string, pick: (q: QueueCounts) => number): Gauge<string> =>
        new Gauge({
          name,
          help,
          labelNames: ['deployment', 'model'],
          registers,
          async collect() {
            this.reset();
            for (const q of await read()) this.set({ deployment: q.deployment, model: q.model }, pick(q));
          },
        });
      queueGauge(
        'switchyard_queue_pending_jobs',
        'Jobs waiting in a queue for a worker (API: sampled estimate; worker: direct lane + BullMQ wait + prioritized).',
        (q) => q.pending,
      );
      queueGauge('switchyard_queue_active_jobs', 'Jobs held by workers of a queue (BullMQ active).', (q) => q.active);
    }
  }

  /** One answered job; stage times in ms (absent stages are not observed). */
  observeJob(
    labels: ScoringLabels,
    outcome: string,
    stages: { queueMs?: number; preprocessMs?: number; inferenceMs?: number },
  ): void {
    // Object.assign, not a spread, on the hot path: ~12× faster here (measured).
    this.jobs.inc(Object.assign({}, labels, { outcome }));
    if (stages.queueMs !== undefined) this.queueWait.observe(labels, Math.max(0, stages.queueMs) / 1000);
    if (stages.preprocessMs !== undefined) this.preprocess.observe(labels, stages.preprocessMs / 1000);
    if (stages.inferenceMs !== undefined) this.inference.observe(labels, stages.inferenceMs / 1000);
  }

  /** One batch execution of `items` jobs. */
  observeBatch(labels: Labels, items: number): void {
    this.batchSize.observe(labels, items);
    this.inferenceCount.inc(labels, items);
    this.execCount.inc(labels);
  }

  jobRetried(labels: { deployment: string; model: string }): void {
    this.retried.inc(labels);
  }
}

/** One read shared by the gauges of a scrape: `read` runs at most once per `ms`. */
function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ms) last = { at: Date.now(), value: read() };
    return last.value;
  };
}
