import { Logger } from '@nestjs/common';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ScoringError, type AsyncJobRecord, type ScoringJob } from '#contracts';
import {
  ASYNC_EXPIRY_GRACE_MS,
  createRedis,
  RedisAsyncStore,
  RedisKeys,
  WEBHOOK_QUEUE,
  type RedisTransport,
  type StoredAsyncJob,
} from '#runtime';
import type { AsyncBackend, WebhookDelivery } from './async-backend.js';
import type { RetryPolicy } from './memory-async-backend.js';
import { DeliveryError } from './webhooks/webhook-sender.js';

/** How often an instance looks for finished jobs whose webhook can go now. */
const DONE_POLL_MS = 200;
/** Deliveries one API instance sends at once. */
const WEBHOOK_CONCURRENCY = 16;

export interface RedisAsyncBackendOptions {
  url: string;
  prefix: string;
  instanceId: string;
  retry: RetryPolicy;
}

/**
 * Distributed mode. Accept: the record goes to `<prefix>:_job:<id>` and, with a callback, a
 * delivery job is added to the `_webhooks` queue, delayed until the deadline (plus grace);
 * then the scoring job is enqueued. The worker stores the reply in the same hash (in its
 * reply pipeline) and pushes the id on `_async_done`; an API instance pops it and promotes
 * the delivery, which any instance's webhook worker sends with BullMQ's retries. A job that
 * never finishes gets its delivery at the deadline anyway, as `expired`.
 */
export class RedisAsyncBackend implements AsyncBackend {
  readonly replyTo: string;
  private readonly store: RedisAsyncStore;
  private webhookQueue: Queue | undefined;
  private readonly worker: Worker | undefined;
  private readonly connections: Redis[] = [];
  private readonly poll: NodeJS.Timeout;
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly transport: RedisTransport,
    private readonly options: RedisAsyncBackendOptions,
    private readonly delivery: WebhookDelivery | undefined,
  ) {
    const keys = new RedisKeys(options.prefix);
    this.replyTo = keys.asyncReplyTo;
    this.store = new RedisAsyncStore(transport.redis, keys);
    if (delivery) {
      const blocking = this.connect('worker', `sy-api-webhooks-${options.instanceId}`);
      this.worker = new Worker(WEBHOOK_QUEUE, (job: Job<{ id: string }>) => this.process(job), {
        connection: blocking,
        prefix: options.prefix,
        concurrency: WEBHOOK_CONCURRENCY,
      });
      this.worker.on('error', (err) => this.logger.warn(`webhook queue: ${err.message}`));
      this.worker.on('failed', (job, err) => {
        if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError)) {
          this.logger.warn(
            `webhook of job ${job.data.id} not delivered after ${job.attemptsMade} attempt(s): ${err.message}`,
          );
        }
      });
    }
    this.poll = setInterval(() => void this.promoteFinished(), DONE_POLL_MS);
    this.poll.unref();
  }

  async submit(job: ScoringJob, record: AsyncJobRecord): Promise<void> {
    try {
      await this.store.create(record);
      if (record.callbackUrl) {
        await this.webhooks.add(
          'deliver',
          { id: record.id },
          {
            jobId: record.id,
            delay: Math.max(0, record.deadline - Date.now()) + ASYNC_EXPIRY_GRACE_MS,
            attempts: this.options.retry.attempts,
            backoff: { type: 'exponential', delay: this.options.retry.baseMs },
            removeOnComplete: { age: 3600, count: 1000 },
            removeOnFail: { age: 24 * 3600, count: 1000 },
          },
        );
      }
      await this.transport.enqueue(job);
    } catch (err) {
      throw err instanceof ScoringError
        ? err
        : ScoringError.unavailable(`queue unavailable: ${(err as Error).message}`);
    }
  }

  async read(id: string): Promise<{ job: StoredAsyncJob; running: boolean } | undefined> {
    const job = await this.store.readFinalizing(id);
    if (!job) return undefined;
    const running =
      !job.outcome && (await this.transport.jobState(job.record.queue ?? job.record.model, id)) === 'active';
    return { job, running };
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.worker?.close();
    // The queue shares the transport's connection, which may be closed already.
    await Promise.race([this.webhookQueue?.close(), new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const c of this.connections) c.disconnect();
  }

  /** Created on first use, on the transport's (ready) connection, as the transport's queues are. */
  private get webhooks(): Queue {
    if (!this.webhookQueue) {
      const connection = this.transport.redis;
      this.webhookQueue = new Queue(WEBHOOK_QUEUE, {
        connection,
        prefix: this.options.prefix,
        skipWaitingForReady: true,
      });
      this.webhookQueue.on('error', () => undefined);
    }
    return this.webhookQueue;
  }

  private connect(role: 'worker', name: string): Redis {
    const redis = createRedis(this.options.url, role, name);
    redis.on('error', () => undefined); // outages show as 503s and retried deliveries
    this.connections.push(redis);
    return redis;
  }

  /** Deliveries of finished jobs wait (delayed) for their deadline: move them up now. */
  private async promoteFinished(): Promise<void> {
    if (this.transport.redis.status !== 'ready') return;
    const ids = await this.store.popDone(100).catch(() => [] as string[]);
    await Promise.all(
      ids.map(async (id) => {
        const delivery = await this.webhooks.getJob(id).catch(() => undefined);
        await delivery?.promote().catch(() => undefined); // not delayed any more: nothing to do
      }),
    );
  }

  private async process(job: Job<{ id: string }>): Promise<void> {
    const stored = await this.store.readFinalizing(job.data.id);
    if (!stored) return; // the job and its result are gone (TTL): nothing to tell
    try {
      await this.delivery!.deliver(stored, job.attemptsMade + 1);
    } catch (err) {
      if (err instanceof DeliveryError && !err.retryable) throw new UnrecoverableError(err.message);
      throw err;
    }
  }
}
