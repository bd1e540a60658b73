import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isEnvelope, type QueuedWork, type ScoringJob } from '../../../contracts/src/index.js';
import type { ModelServer } from '../serving/model-server.js';
import { epochMs, notifyObserver } from '../serving/serving-observer.js';
import { RedisKeys } from './redis-keys.js';
import { ReplyPublisher } from './reply-publisher.js';

/** @see QueueConsumer */
export interface QueueConsumerOptions {
  queue: string;
  prefix: string;
  /**
   * BullMQ jobs held at once. Each one's requests wait in the batcher for their batch, so
   * batches fill from several jobs while another batch runs.
   */
  concurrency: number;
  /** ms a job lock lasts without renewal; a crashed worker's jobs move on after it. @defaultValue 30000 */
  lockDurationMs?: number;
  /** ms between checks for stalled jobs. @defaultValue 30000 */
  stalledIntervalMs?: number;
}

/**
 * Feeds a model's BullMQ queue into its ModelServer and publishes each reply to the channel
 * its request names. A job is one request (async) or an envelope of requests; BullMQ keeps
 * lock renewal and stalled-job recovery per job, the batcher sees one call per request.
 * Nothing is stored as the job's return value: replies travel on the channels.
 */
export class QueueConsumer {
  private readonly worker: Worker<QueuedWork, null>;
  private readonly publisher: ReplyPublisher;
  /** The queue's waiting-request counter (see RedisKeys.queuedRequests). */
  private readonly queuedRequests: string;
  /** Replies published that no API instance was listening for. */
  unreceived = 0;

  constructor(
    private server: ModelServer,
    connection: Redis,
    publisherConnection: Redis,
    options: QueueConsumerOptions,
  ) {
    const keys = new RedisKeys(options.prefix);
    this.publisher = new ReplyPublisher(publisherConnection, keys);
    this.queuedRequests = keys.queuedRequests(options.queue);
    this.worker = new Worker<QueuedWork, null>(options.queue, (job) => this.process(job), {
      connection,
      prefix: options.prefix,
      autorun: false,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 1,
    });
  }

  /**
   * Follows the model's cancel channel: the API publishes there the ids of jobs whose callers
   * went away after a worker had taken them.
   */
  async followCancellations(subscriber: Redis, channel: string): Promise<void> {
    subscriber.on('message', (ch: string, id: string) => ch === channel && this.server.cancel(id));
    await subscriber.subscribe(channel);
  }

  /**
   * Hot switch: jobs from now on go to `next`; jobs already taken finish on the old server,
   * which is returned so the caller can release it once it is idle.
   */
  swap(next: ModelServer): ModelServer {
    const previous = this.server;
    this.server = next;
    return previous;
  }

  /** Starts fetching jobs. Call once the model is warm. */
  start(onError: (err: Error) => void): void {
    this.worker.on('error', onError);
    void this.worker.run().catch(onError);
  }

  /** Stops fetching, lets jobs in flight finish and publish, then closes. */
  async stop(): Promise<void> {
    await this.worker.close();
  }

  isRunning(): boolean {
    return this.worker.isRunning();
  }

  private async process(job: Job<QueuedWork>): Promise<null> {
    const work = job.data;
    // A job taken back from a crashed worker was counted off at its first pick-up already.
    if (job.attemptsStarted <= 1) {
      const requests = isEnvelope(work) ? work.items.length : 1;
      this.publisher.countOff(this.queuedRequests, requests);
    }
    if (isEnvelope(work)) await Promise.all(work.items.map((item) => this.serve(item, job.attemptsStarted)));
    else await this.serve(work, job.attemptsStarted);
    return null;
  }

  /** Serves one request and sends its reply where it belongs. */
  private async serve(data: ScoringJob, attempt: number): Promise<void> {
    const pickedUpAt = epochMs();
    notifyObserver((o) => o.jobPickedUp?.(data, attempt));
    const reply = await this.server.handle(data);
    // Async job: nobody waits; the reply (an expiry too) becomes its stored outcome.
    if (data.async) {
      await this.publisher.store(reply, data.async);
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return;
    }
    // An expired job's caller has been answered 504 by its API already, and a cancelled
    // job's caller is gone: nobody waits for these replies.
    if (!reply.ok && (reply.status === 499 || (reply.status === 504 && data.deadline <= Date.now()))) {
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return;
    }
    const publishStartedAt = epochMs();
    const receivers = await this.publisher.publish(data.replyTo, reply, data.deadline);
    notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt, publishStartedAt, publishedAt: epochMs() }));
    if (receivers === 0) this.unreceived++;
  }
}
