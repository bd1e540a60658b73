import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import { QueueDepthSampler } from './queue-depth-sampler.js';
import { RedisCatalogReader } from './redis-catalog-reader.js';
import { createRedis, waitForRedis } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { ReplyWaiter } from './reply-waiter.js';
import type { CatalogEntry, ScoringTransport } from './scoring-transport.js';
import { WriteCoalescer } from './write-coalescer.js';

/** @see RedisTransport.connect */
export interface RedisTransportOptions {
  url: string;
  /** Key prefix for BullMQ queues and Switchyard's own keys. @defaultValue 'sy' */
  prefix: string;
  /** Unique per API process; names its reply channel. */
  instanceId: string;
  /** Completed jobs BullMQ keeps per queue (a fallback for missed replies). @defaultValue 1000 */
  keepCompleted?: number;
}

interface QueueEntry {
  queue: Queue;
  adds: WriteCoalescer<ScoringJob, unknown>;
}

/** How long a request waits before the API looks for its reply in the job itself. */
const MISSED_REPLY_CHECK_MS = 1000;

/**
 * The API side of the distributed topology: enqueues jobs on BullMQ (concurrent adds in one
 * `addBulk`), listens on this instance's own reply channel, and resolves waiting callers.
 * A reply missed on the channel is found in the completed job's return value.
 */
export class RedisTransport implements ScoringTransport {
  readonly replyTo: string;
  private readonly keys: RedisKeys;
  private readonly waiter = new ReplyWaiter();
  private readonly queues = new Map<string, QueueEntry>();
  private readonly catalogReader: RedisCatalogReader;
  private readonly depths: QueueDepthSampler;
  private readonly sweep: NodeJS.Timeout;
  private closing = false;

  private constructor(
    private readonly options: RedisTransportOptions,
    private readonly producer: Redis,
    private readonly subscriber: Redis,
  ) {
    this.keys = new RedisKeys(options.prefix);
    this.replyTo = this.keys.replyChannel(options.instanceId);
    this.catalogReader = new RedisCatalogReader(producer, this.keys);
    this.depths = new QueueDepthSampler(producer, (model) => {
      const { queue } = this.queueFor(model);
      return { wait: queue.toKey('wait'), prioritized: queue.toKey('prioritized') };
    });
    subscriber.on('message', (_channel: string, message: string) => this.onReply(message));
    // ioredis resubscribes after a reconnect; replies published meanwhile are in the jobs.
    subscriber.on('ready', () => void this.findMissedReplies(0));
    this.sweep = setInterval(() => void this.findMissedReplies(MISSED_REPLY_CHECK_MS), MISSED_REPLY_CHECK_MS);
    this.sweep.unref();
  }

  static async connect(options: RedisTransportOptions): Promise<RedisTransport> {
    const producer = createRedis(options.url, 'producer', `sy-api-${options.instanceId}`);
    const subscriber = createRedis(options.url, 'subscriber', `sy-api-sub-${options.instanceId}`);
    // Errors are reported through status and request outcomes; without a listener ioredis
    // would print every reconnect attempt as an unhandled error event.
    producer.on('error', () => undefined);
    subscriber.on('error', () => undefined);
    await Promise.all([waitForRedis(producer, 10_000), waitForRedis(subscriber, 10_000)]);
    const transport = new RedisTransport(options, producer, subscriber);
    await subscriber.subscribe(transport.replyTo);
    return transport;
  }

  get inFlight(): number {
    return this.waiter.size;
  }

  /** The connection for one-off checks at start (e.g. the eviction policy). */
  get redis(): Redis {
    return this.producer;
  }

  submit(job: ScoringJob, signal?: AbortSignal): Promise<ScoringReply> {
    if (this.closing) {
      return Promise.resolve({ id: job.id, ok: false, status: 503, error: 'this API instance is shutting down' });
    }
    if (signal?.aborted)
      return Promise.resolve({ id: job.id, ok: false, status: 499, error: 'client closed the request' });
    const queueName = job.queue ?? job.model;
    const reply = this.waiter.wait(job.id, job.deadline, queueName);
    const entry = this.queueFor(queueName);
    const added = entry.adds.push(job);
    added.catch((err: Error) =>
      this.waiter.deliver({ id: job.id, ok: false, status: 503, error: `queue unavailable: ${err.message}` }),
    );
    this.depths.noteEnqueued(queueName, added);
    // Removing the job must wait for its add: removing first would find nothing, then add it.
    const cancel = (): void => {
      if (this.waiter.cancel(job.id))
        void added.then(
          () => this.cancel(entry.queue, job),
          () => undefined,
        );
    };
    signal?.addEventListener('abort', cancel, { once: true });
    return reply;
  }

  /**
   * Enqueues a job nobody waits for here (an async job): resolves once it is on its queue,
   * rejects when Redis refuses it.
   */
  async enqueue(job: ScoringJob): Promise<void> {
    if (this.closing) throw new Error('this API instance is shutting down');
    const queueName = job.queue ?? job.model;
    const added = this.queueFor(queueName).adds.push(job);
    this.depths.noteEnqueued(queueName, added);
    await added;
  }

  /** BullMQ state of a job of a queue ('unknown' once removed). */
  jobState(queue: string, id: string): Promise<string> {
    return this.queueFor(queue).queue.getJobState(id);
  }

  catalog(): Promise<Map<string, CatalogEntry>> {
    return this.catalogReader.get();
  }

  queueDepth(queue: string): number {
    return this.depths.depth(queue);
  }

  isHealthy(): boolean {
    return this.producer.status === 'ready' && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.waiter.drained();
    clearInterval(this.sweep);
    await Promise.all([...this.queues.values()].map((q) => q.queue.close()));
    this.subscriber.disconnect();
    this.producer.disconnect();
  }

  private queueFor(name: string): QueueEntry {
    let entry = this.queues.get(name);
    if (!entry) {
      const queue = new Queue(name, {
        connection: this.producer,
        prefix: this.options.prefix,
        skipWaitingForReady: true,
        defaultJobOptions: {
          removeOnComplete: { count: this.options.keepCompleted ?? 1000 },
          removeOnFail: { count: 1000, age: 3600 },
        },
      });
      queue.on('error', () => undefined);
      const adds = new WriteCoalescer<ScoringJob, unknown>((jobs) =>
        queue.addBulk(
          jobs.map((data) => ({
            name: 'score',
            data,
            opts: { jobId: data.id, ...(data.priority ? { priority: data.priority } : {}) },
          })),
        ),
      );
      entry = { queue, adds };
      this.queues.set(name, entry);
    }
    return entry;
  }

  /** Removes a job whose caller went away; if a worker holds it already, tells workers to skip it. */
  private async cancel(queue: Queue, job: ScoringJob): Promise<void> {
    try {
      const removed = await queue.remove(job.id);
      if (removed !== 1) await this.producer.publish(this.keys.cancelChannel(job.queue ?? job.model), job.id);
    } catch {
      // Best effort: an uncancelled job is still dropped at its deadline.
    }
  }

  private onReply(message: string): void {
    let reply: ScoringReply;
    try {
      reply = JSON.parse(message) as ScoringReply;
    } catch {
      return; // not ours: nothing else publishes on this channel
    }
    this.waiter.deliver(reply);
  }

  /** Looks for replies of long-waiting requests in their completed jobs' return values. */
  private async findMissedReplies(olderThanMs: number): Promise<void> {
    const waiting = this.waiter.waitingLongerThan(olderThanMs);
    if (waiting.length === 0 || this.producer.status !== 'ready') return;
    const pipeline = this.producer.pipeline();
    for (const { id, tag } of waiting) pipeline.hget(this.queueFor(tag).queue.toKey(id), 'returnvalue');
    const results = (await pipeline.exec().catch(() => null)) ?? [];
    results.forEach(([err, value], i) => {
      if (err || typeof value !== 'string' || value === 'null') return;
      const reply = JSON.parse(value) as ScoringReply | null;
      if (reply && reply.id === waiting[i]!.id) this.waiter.deliver(reply);
    });
  }
}
