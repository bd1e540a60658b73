import { Inject, Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisKeys, waitingRequests, WorkerEnv, type ModelServer, type WorkerStatsSnapshot } from '#runtime';
import { createRegistry, ServingTelemetry, Tracing, type QueueCounts, type ServedModelInfo } from '#telemetry';

/** What telemetry reads from the worker service (which satisfies it as it is). */
export interface ServingWorker {
  readonly modelServer: ModelServer | undefined;
  /** Direct-lane envelopes the worker serves now. */
  readonly activeLaneEnvelopes: number;
  isReady(): boolean;
}

/**
 * The worker's telemetry: Prometheus registry (`GET /metrics` on HEALTH_PORT), serving metrics
 * and spans through the runtime's observer hooks, the rolling stats its heartbeat carries, and
 * payload capture per the model config's `capture` block.
 */
@Injectable()
export class WorkerTelemetryService {
  readonly registry = createRegistry();
  readonly serving: ServingTelemetry;
  private worker: ServingWorker | undefined;
  private queue: Queue | undefined;
  private commands: Redis | undefined;
  private readonly keys: RedisKeys;

  constructor(@Inject(WorkerEnv) private readonly env: WorkerEnv) {
    this.keys = new RedisKeys(env.REDIS_PREFIX);
    this.serving = new ServingTelemetry({
      registry: this.registry,
      tracing: Tracing.get(),
      served: () => this.served(),
      queueCounts: () => this.queueCounts(),
      captureConfig: (model) => {
        const server = this.worker?.modelServer;
        return server?.model.name === model ? server.model.config.capture : undefined;
      },
    }).install();
  }

  /**
   * The worker consumes `queue` now. Its counts are read on shared connections: BullMQ's on
   * the one BullMQ's Worker already uses (its scripts are defined there), the rest on
   * `commands`, which stays free of scripts because ioredis copies them onto every pipeline.
   */
  attach(worker: ServingWorker, queue: string, commands: Redis, bullmqConnection: Redis): void {
    this.worker = worker;
    this.commands = commands;
    this.queue = new Queue(queue, {
      connection: bullmqConnection,
      prefix: this.env.REDIS_PREFIX,
      skipWaitingForReady: true,
    });
    this.queue.on('error', () => undefined);
  }

  /** Counts and the last minute of this worker's queue, for its heartbeat. */
  snapshot(): WorkerStatsSnapshot | undefined {
    return this.queue ? this.serving.snapshot(this.queue.name) : undefined;
  }

  /** Writes out captured payloads and flushes spans; after the worker has stopped. */
  async shutdown(): Promise<void> {
    await this.serving.shutdown();
    await this.queue?.close().catch(() => undefined);
    await Tracing.get().shutdown();
  }

  /** What the worker was started to serve: MODEL, or DEPLOYMENT's name before the model is known. */
  private get configured(): string {
    return this.env.MODEL ?? this.env.DEPLOYMENT ?? '';
  }

  private served(): ServedModelInfo[] {
    const server = this.worker?.modelServer;
    const deployment = this.queue?.name ?? this.configured;
    if (!server) {
      const model = this.env.MODEL ?? '';
      return [{ deployment, model, versions: [''], device: this.env.DEVICE ?? '', ready: false }];
    }
    const { model } = server;
    return [
      {
        deployment,
        model: model.name,
        versions: model.metadata.versions,
        device: model.config.instance.device,
        ready: this.worker?.isReady() ?? false,
      },
    ];
  }

  private async queueCounts(): Promise<QueueCounts[]> {
    if (!this.queue || !this.commands) return [];
    const [counts, counter, lane] = await Promise.all([
      this.queue.getJobCounts('wait', 'prioritized', 'active'),
      this.commands.get(this.keys.queuedRequests(this.queue.name)),
      this.commands.llen(this.keys.lane(this.queue.name)),
    ]);
    const model = this.worker?.modelServer?.model.name ?? this.configured;
    const jobs = (counts.wait ?? 0) + (counts.prioritized ?? 0) + lane;
    const pending = waitingRequests(jobs, Number(counter ?? 0));
    // Active: this worker's lane envelopes plus the BullMQ jobs all workers hold.
    const active = (counts.active ?? 0) + (this.worker?.activeLaneEnvelopes ?? 0);
    return [{ deployment: this.queue.name, model, pending, active }];
  }
}
