import { ScoringError, type ScoringFailure, type ScoringJob, type ScoringReply } from '../../../contracts/src/index.js';
import { DynamicBatcher } from '../batching/dynamic-batcher.js';
import type { ModelHandler } from '../handlers/model-handler.js';
import { TensorHandler } from '../handlers/tensor-handler.js';
import type { LoadedModel, LoadedVersion, TensorMap } from '../session/loaded-model.js';
import { concatRows, splitRows } from '../tensor/tensor-codec.js';
import { epochMs, notifyObserver, outcomeOf, type JobMarks } from './serving-observer.js';

interface BatchInput {
  feeds: TensorMap;
  rows: number;
}

/** Counters a model server keeps; telemetry reads them. */
export interface ModelServerStats {
  /** Jobs dropped unrun because their deadline had passed (at pick-up or in the batcher). */
  expired: number;
  /** Jobs dropped unrun because their caller went away. */
  cancelled: number;
  succeeded: number;
  failed: number;
}

/** Cancelled job ids are remembered this long (jobs outlive no deadline longer). */
const CANCEL_MEMORY_MS = 10 * 60_000;

/**
 * Serves one loaded model: prepares each job with its handler, batches it with others of the
 * same version and shape, runs the session, and turns its slice of the outputs into a reply.
 * `handle` never throws: every outcome is a reply.
 */
export class ModelServer {
  private readonly batchers = new Map<string, DynamicBatcher<BatchInput, TensorMap>>();
  private readonly tensorHandler: TensorHandler;
  readonly stats: ModelServerStats = { expired: 0, cancelled: 0, succeeded: 0, failed: 0 };
  /** Jobs being handled now; a replaced server is released once this reaches 0. */
  private active = 0;
  /** Job id → when it was cancelled. Insertion order is age order, so pruning stops early. */
  private readonly cancelled = new Map<string, number>();

  constructor(
    readonly model: LoadedModel,
    /** The model's no-code handler for friendly requests, when its config names one. */
    private readonly friendlyHandler?: ModelHandler,
  ) {
    this.tensorHandler = new TensorHandler(model);
    for (const v of model.versions) this.batchers.set(v.version, this.batcherFor(v));
  }

  /** Items waiting in the batchers. */
  get depth(): number {
    let n = 0;
    for (const b of this.batchers.values()) n += b.depth;
    return n;
  }

  /** The caller of this job went away: drop it unrun if it has not run yet. */
  cancel(id: string): void {
    const now = Date.now();
    for (const [old, at] of this.cancelled) {
      if (now - at < CANCEL_MEMORY_MS) break;
      this.cancelled.delete(old);
    }
    this.cancelled.set(id, now);
  }

  /** Resolves once no job is being handled (after a hot switch, before release). */
  async idle(pollMs = 20): Promise<void> {
    while (this.active > 0) await new Promise((r) => setTimeout(r, pollMs));
  }

  async handle(job: ScoringJob): Promise<ScoringReply> {
    this.active++;
    const marks: JobMarks = { receivedAt: epochMs() };
    try {
      const reply = await this.handleJob(job, marks);
      notifyObserver((o) => o.jobDone?.(job, reply, outcomeOf(reply), marks));
      return reply;
    } finally {
      this.active--;
    }
  }

  private async handleJob(job: ScoringJob, marks: JobMarks): Promise<ScoringReply> {
    const startedAt = Date.now();
    if (job.deadline <= startedAt) {
      this.stats.expired++;
      return { id: job.id, ok: false, status: 504, error: 'deadline passed before the job was picked up' };
    }
    if (this.cancelled.has(job.id)) {
      this.stats.cancelled++;
      return { id: job.id, ok: false, status: 499, error: 'client closed the request' };
    }
    try {
      const version = this.model.version(job.version);
      if (!version) throw ScoringError.notFound(`model '${this.model.name}' version ${job.version} is not served here`);
      const handler = this.handlerFor(job);
      const prepareStart = performance.now();
      const item = await handler.prepare(job);
      const preprocess = performance.now() - prepareStart;
      marks.preparedAt = epochMs();
      const run = await this.batchers.get(version.version)!.submit(
        { feeds: item.feeds, rows: item.rows },
        {
          rows: item.rows,
          signature: item.signature,
          deadline: job.deadline,
          isCancelled: () => this.cancelled.has(job.id),
          tag: job,
        },
      );
      marks.batchStartedAt = marks.preparedAt + run.waitedMs;
      marks.batchEndedAt = marks.batchStartedAt + run.inferenceMs;
      const handled = handler.finish(job, run.output);
      this.stats.succeeded++;
      return {
        id: job.id,
        ok: true,
        model: this.model.name,
        version: version.version,
        ...handled,
        timings: {
          queue: round(startedAt - job.acceptedAt + run.waitedMs),
          preprocess: round(preprocess),
          inference: round(run.inferenceMs),
          batchSize: run.batchSize,
        },
      };
    } catch (err) {
      const reply = failureReply(job.id, err);
      if (reply.status === 504) this.stats.expired++;
      else if (reply.status === 499) this.stats.cancelled++;
      else this.stats.failed++;
      return reply;
    }
  }

  private handlerFor(job: ScoringJob): ModelHandler {
    if (job.kind === 'tensors') return this.tensorHandler;
    if (!this.friendlyHandler) {
      throw ScoringError.badRequest(
        `model '${this.model.name}' has no handler for friendly requests; use the tensor route /v2/models/${this.model.name}/infer`,
      );
    }
    return this.friendlyHandler;
  }

  private batcherFor(version: LoadedVersion): DynamicBatcher<BatchInput, TensorMap> {
    const { config } = this.model;
    const batching = config.max_batch_size > 0;
    return new DynamicBatcher<BatchInput, TensorMap>(
      {
        maxBatchSize: batching ? config.max_batch_size : 1,
        maxQueueDelayMs: batching ? config.dynamic_batching.max_queue_delay_ms : 0,
        preferredBatchSizes: config.dynamic_batching.preferred_batch_sizes,
        concurrency: config.instance.count,
        onExecuted: (run) =>
          notifyObserver((o) =>
            o.batchExecuted?.({
              model: this.model.name,
              version: version.version,
              jobs: run.tags as ScoringJob[],
              rows: run.rows,
              startedAt: performance.timeOrigin + run.startedAt,
              durationMs: run.durationMs,
              ok: run.ok,
            }),
          ),
      },
      batching ? (items) => runBatched(version, items) : async (items) => [await version.session.run(items[0]!.feeds)],
    );
  }
}

/** Concatenates the items along the batch dimension, runs once, splits outputs by rows. */
async function runBatched(version: LoadedVersion, items: BatchInput[]): Promise<TensorMap[]> {
  if (items.length === 1) return [await version.session.run(items[0]!.feeds)];
  const feeds: TensorMap = {};
  for (const spec of version.signature.inputs) feeds[spec.name] = concatRows(items.map((i) => i.feeds[spec.name]!));
  // The stacked feeds are this function's own: hand them over rather than copy them.
  const outputs = await version.session.run(feeds, true);
  const rows = items.map((i) => i.rows);
  const perItem: TensorMap[] = items.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    splitRows(tensor, rows).forEach((part, i) => (perItem[i]![name] = part));
  }
  return perItem;
}

function failureReply(id: string, err: unknown): ScoringFailure {
  if (err instanceof ScoringError) return { id, ok: false, status: err.status, error: err.message };
  // onnxruntime rejects inputs it cannot run (e.g. values out of an embedding's range):
  // the request is at fault, not the server, but we cannot be sure, so say what happened.
  return { id, ok: false, status: 500, error: `inference failed: ${(err as Error).message ?? String(err)}` };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
