import { ScoringError } from '../../../contracts/src/index.js';

/** Batching settings, in Triton's vocabulary. */
export interface BatcherOptions {
  /** Most rows in one batch. */
  maxBatchSize: number;
  /** How long a batch waits for more items after its first item arrived. 0: next tick. */
  maxQueueDelayMs: number;
  /** A batch that reaches one of these sizes runs without waiting out the delay. @defaultValue [] */
  preferredBatchSizes?: number[];
  /** Batches that may run at once. @defaultValue 1 */
  concurrency?: number;
  /** Called after every run of the runner (telemetry); must not throw. @defaultValue none */
  onExecuted?: (execution: BatchExecutionInfo) => void;
}

/** One run of the runner, as `BatcherOptions.onExecuted` reports it. */
export interface BatchExecutionInfo {
  /** The `tag` of each item in the run. */
  tags: unknown[];
  rows: number;
  /** `performance.now()` when the run started. */
  startedAt: number;
  durationMs: number;
  ok: boolean;
}

/** What the batcher is told about one item besides its payload. */
export interface BatchItemInfo {
  /** Rows this item contributes (its batch dimension). */
  rows: number;
  /** Items only share a batch when their signatures are equal (same dtypes, same inner dims). */
  signature: string;
  /** Absolute deadline (epoch ms); an item past it is dropped unrun. */
  deadline: number;
  /** True once the caller went away: the item is dropped unrun. */
  isCancelled?: () => boolean;
  /** Opaque, handed back in `onExecuted` (e.g. the job, to link traces). */
  tag?: unknown;
}

/** How a batch ran, handed back to each of its items. */
export interface BatchRun<O> {
  output: O;
  /** Items in the batch this item ran in (1 when re-run alone). */
  batchSize: number;
  /** ms the item waited in the batcher before its batch started. */
  waitedMs: number;
  /** ms the batch's run took. */
  inferenceMs: number;
}

/** Runs a batch; returns one output per input, in order. */
export type BatchRunner<I, O> = (inputs: I[]) => Promise<O[]>;

interface Pending<I, O> extends BatchItemInfo {
  input: I;
  enqueuedAt: number;
  resolve: (run: BatchRun<O>) => void;
  reject: (err: unknown) => void;
}

/**
 * Dynamic micro-batching: gathers items until `maxBatchSize` rows or `maxQueueDelayMs` after
 * the first item of the batch, then runs them together. If a whole batch throws, its items
 * are re-run one by one so only the culprit fails. Expired items are never run.
 */
export class DynamicBatcher<I, O> {
  private readonly pending: Pending<I, O>[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private due = false;
  private running = 0;
  private readonly concurrency: number;
  private readonly preferred: Set<number>;
  /** Items dropped because their deadline passed before they ran. */
  expired = 0;
  /** Items dropped because their caller went away before they ran. */
  cancelled = 0;

  constructor(
    private readonly options: BatcherOptions,
    private readonly runner: BatchRunner<I, O>,
  ) {
    if (options.maxBatchSize < 1) throw new Error('maxBatchSize must be at least 1');
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.preferred = new Set(options.preferredBatchSizes ?? []);
  }

  /** Items waiting for a batch. */
  get depth(): number {
    return this.pending.length;
  }

  submit(input: I, info: BatchItemInfo): Promise<BatchRun<O>> {
    if (info.rows > this.options.maxBatchSize) {
      return Promise.reject(
        ScoringError.badRequest(
          `batch of ${info.rows} rows exceeds the model's max_batch_size ${this.options.maxBatchSize}`,
        ),
      );
    }
    return new Promise<BatchRun<O>>((resolve, reject) => {
      // Object.assign, not a spread: spreading `info` into the new object took ~4 µs (measured).
      this.pending.push(Object.assign({ input, enqueuedAt: performance.now(), resolve, reject }, info));
      this.pendingRows += info.rows;
      if (this.pendingRows >= this.options.maxBatchSize || this.preferred.has(this.pendingRows)) this.due = true;
      if (this.due) this.drain();
      else this.armTimer();
    });
  }

  private armTimer(): void {
    if (this.timer) return;
    const fire = (): void => {
      this.timer = undefined;
      this.due = true;
      this.drain();
    };
    this.timer = this.options.maxQueueDelayMs > 0 ? setTimeout(fire, this.options.maxQueueDelayMs) : setImmediate(fire);
  }

  private drain(): void {
    while (this.due && this.running < this.concurrency && this.pending.length > 0) {
      const batch = this.take();
      if (batch.length > 0) void this.run(batch);
    }
    if (this.pending.length === 0) {
      this.due = false;
      this.clearTimer();
    } else if (!this.due) {
      this.armTimer();
    }
  }

  /** Takes the next batch: oldest first, same signature, up to maxBatchSize rows. */
  private take(): Pending<I, O>[] {
    const now = Date.now();
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    let rows = 0;
    let signature: string | undefined;
    for (const item of this.pending) {
      if (item.deadline <= now) {
        this.expired++;
        item.reject(ScoringError.timeout('deadline passed while the request waited for a batch'));
      } else if (item.isCancelled?.()) {
        this.cancelled++;
        item.reject(new ScoringError(499, 'client closed the request'));
      } else if (
        (signature === undefined || item.signature === signature) &&
        rows + item.rows <= this.options.maxBatchSize
      ) {
        signature = item.signature;
        rows += item.rows;
        batch.push(item);
      } else {
        rest.push(item);
      }
    }
    this.pending.length = 0;
    this.pending.push(...rest);
    this.pendingRows = rest.reduce((n, item) => n + item.rows, 0);
    // What is left starts a new batch: full already, or waiting for its own delay.
    this.due = this.pendingRows >= this.options.maxBatchSize;
    this.clearTimer();
    return batch;
  }

  private async run(batch: Pending<I, O>[]): Promise<void> {
    this.running++;
    const started = performance.now();
    try {
      const outputs = await this.runner(batch.map((item) => item.input));
      if (outputs.length !== batch.length)
        throw new Error(`runner returned ${outputs.length} outputs for ${batch.length} items`);
      const inferenceMs = performance.now() - started;
      this.executed(batch, started, true);
      batch.forEach((item, i) =>
        item.resolve({
          output: outputs[i]!,
          batchSize: batch.length,
          waitedMs: started - item.enqueuedAt,
          inferenceMs,
        }),
      );
    } catch (err) {
      this.executed(batch, started, false);
      if (batch.length === 1) batch[0]!.reject(err);
      else await this.runAlone(batch);
    } finally {
      this.running--;
      this.drain();
    }
  }

  /** After a batch failed: each item alone, so one bad item cannot fail the others. */
  private async runAlone(batch: Pending<I, O>[]): Promise<void> {
    for (const item of batch) {
      const started = performance.now();
      try {
        const outputs = await this.runner([item.input]);
        if (outputs.length !== 1) throw new Error(`runner returned ${outputs.length} outputs for 1 item`);
        this.executed([item], started, true);
        item.resolve({
          output: outputs[0]!,
          batchSize: 1,
          waitedMs: started - item.enqueuedAt,
          inferenceMs: performance.now() - started,
        });
      } catch (err) {
        this.executed([item], started, false);
        item.reject(err);
      }
    }
  }

  private executed(batch: Pending<I, O>[], started: number, ok: boolean): void {
    if (!this.options.onExecuted) return;
    try {
      this.options.onExecuted({
        tags: batch.map((item) => item.tag),
        rows: batch.reduce((n, item) => n + item.rows, 0),
        startedAt: started,
        durationMs: performance.now() - started,
        ok,
      });
    } catch {
      // Telemetry must never fail a batch.
    }
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }
}
