import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  createRedis,
  defaultConcurrency,
  evictionPolicyWarning,
  intraOpThreads,
  ManagementKeys,
  ManagementStore,
  QueueConsumer,
  RedisKeys,
  waitForRedis,
  WorkerAnnouncer,
  WorkerEnv,
  type ModelServer,
} from '#runtime';
import { modelSource, type ModelSource } from './model-source.js';
import { WorkerTelemetryService } from './observability/worker-telemetry.service.js';

/**
 * The life of one worker process: connect to Redis, load and warm the model, announce itself,
 * and only then consume its queue. A deployment's worker follows its deployment: a new version
 * is loaded and warmed beside the old one, then swapped in; jobs in flight finish on the old.
 * On shutdown: stop fetching, finish the batch in flight, publish its replies, say goodbye.
 */
@Injectable()
export class ModelWorkerService implements OnApplicationShutdown {
  readonly workerId = `${process.env.HOSTNAME ?? 'worker'}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('ModelWorker');
  private server: ModelServer | undefined;
  private consumer: QueueConsumer | undefined;
  private announcer: WorkerAnnouncer | undefined;
  private connections: Redis[] = [];
  private switching: Promise<void> = Promise.resolve();
  private ready = false;

  constructor(
    @Inject(WorkerEnv) private readonly env: WorkerEnv,
    @Inject(WorkerTelemetryService) private readonly telemetry: WorkerTelemetryService,
  ) {}

  /** Loads the model and starts consuming. Throws (and the process exits) on any misconfiguration. */
  async start(): Promise<void> {
    const env = this.env;
    if (!env.REDIS_URL)
      throw new Error('REDIS_URL is required for a worker (npm start runs the embedded mode instead)');
    // `blocking` is BullMQ's (its Worker and scripts); the reply pipelines go on `commands`,
    // which BullMQ never touches: ioredis copies a connection's scripts onto each pipeline.
    const blocking = createRedis(env.REDIS_URL, 'worker', `sy-worker-${this.workerId}`);
    const commands = createRedis(env.REDIS_URL, 'worker', `sy-worker-cmd-${this.workerId}`);
    const subscriber = createRedis(env.REDIS_URL, 'subscriber', `sy-worker-sub-${this.workerId}`);
    const lane = createRedis(env.REDIS_URL, 'worker', `sy-worker-lane-${this.workerId}`);
    this.connections = [blocking, commands, subscriber, lane];
    for (const c of this.connections) c.on('error', (err: Error) => this.logger.warn(`redis: ${err.message}`));
    await Promise.all(this.connections.map((c) => waitForRedis(c, 30_000)));
    const warning = await evictionPolicyWarning(commands);
    if (warning) this.logger.warn(`!!! ${warning}`);

    const managementKeys = new ManagementKeys(env.REDIS_PREFIX);
    const source = modelSource(env, new ManagementStore(commands, managementKeys));
    const started = performance.now();
    this.server = await source.load();
    const { metadata, config } = this.server.model;
    const { count, inference_thread, intra_op_threads } = config.instance;
    const intraOp = intraOpThreads(intra_op_threads, count);
    const placement =
      count > 1 ? `${count} instances, each on its own thread` : inference_thread ? 'inference on its own thread' : '';
    const threads = ` (${placement ? `${placement}, ` : ''}${intraOp} intra-op thread${intraOp === 1 ? '' : 's'} each)`;
    this.logger.log(
      `${source.label}: '${metadata.name}' versions [${metadata.versions.join(', ')}] loaded and warm on ` +
        `${config.instance.device}${threads} in ${Math.round(performance.now() - started)} ms`,
    );

    const keys = new RedisKeys(env.REDIS_PREFIX);
    const concurrency = env.WORKER_CONCURRENCY ?? defaultConcurrency(config);
    this.consumer = new QueueConsumer(
      this.server,
      blocking,
      commands,
      lane,
      {
        queue: source.queue,
        prefix: env.REDIS_PREFIX,
        concurrency,
        lockDurationMs: env.LOCK_DURATION_MS,
        stalledIntervalMs: env.STALLED_INTERVAL_MS,
        workerId: this.workerId,
      },
      (err) => this.logger.error(`queue: ${err.message}`),
    );
    await this.consumer.followCancellations(subscriber, keys.cancelChannel(source.queue));
    if (source.reloadIfChanged) await this.followDeployment(subscriber, managementKeys.events, source);
    this.telemetry.attach(this, source.queue, commands, blocking);
    this.announcer = new WorkerAnnouncer(
      commands,
      keys,
      source.queue,
      { workerId: this.workerId, metadata, device: config.instance.device, concurrency },
      (err) => this.logger.warn(`heartbeat failed: ${err.message}`),
      () => this.telemetry.snapshot(),
    );
    await this.announcer.start();
    await this.consumer.start();
    this.ready = true;
    this.logger.log(`consuming queue '${source.queue}' (concurrency ${concurrency}) as ${this.workerId}`);
  }

  /** Model loaded and warm, consuming, Redis reachable. */
  isReady(): boolean {
    return this.ready && this.connections.every((c) => c.status === 'ready');
  }

  /** Direct-lane envelopes this worker serves now. */
  get activeLaneEnvelopes(): number {
    return this.consumer?.active ?? 0;
  }

  get modelServer(): ModelServer | undefined {
    return this.server;
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.ready = false;
    this.logger.log(`stopping${signal ? ` on ${signal}` : ''}: finishing jobs in flight`);
    await this.announcer?.stop();
    await this.consumer?.stop();
    await this.switching;
    for (const c of this.connections) c.disconnect();
    await this.server?.model.release();
    this.logger.log('stopped');
  }

  /** Reloads on every management event (one at a time); switches only when the spec changed. */
  private async followDeployment(subscriber: Redis, channel: string, source: ModelSource): Promise<void> {
    subscriber.on('message', (ch: string) => {
      if (ch !== channel) return;
      this.switching = this.switching.then(() => this.switchIfChanged(source));
    });
    await subscriber.subscribe(channel);
  }

  private async switchIfChanged(source: ModelSource): Promise<void> {
    try {
      const next = await source.reloadIfChanged!();
      if (!next || !this.consumer) return;
      const previous = this.consumer.swap(next);
      this.server = next;
      await this.announcer?.update(next.model.metadata);
      this.logger.log(
        `${source.label}: switched to '${next.model.name}' version ${next.model.metadata.versions.join(', ')}`,
      );
      await previous.idle();
      await previous.model.release();
    } catch (err) {
      // Keep serving the current version: a bad new spec must not take the deployment down.
      this.logger.error(
        `${source.label}: switch failed, still serving the previous version: ${(err as Error).message}`,
      );
    }
  }
}
