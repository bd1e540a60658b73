import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { ModelServer } from '../serving/model-server.js';
import { epochMs, notifyObserver } from '../serving/serving-observer.js';
import { RedisKeys } from './redis-keys.js';
import { ReplyPublisher } from './reply-publisher.js';

/** @see QueueConsumer */
export interface QueueConsumerOptions {
  queue: string;
  prefix: string;
  /**
   * Jobs held at once. Each waits in the batcher for its batch, so this must exceed the
   * batch size for batches to fill while another runs.
   */
  concurrency: number;
  /** ms a job lock lasts without renewal; a crashed worker's jobs move on after it. @defaultValue 30000 */
  lockDurationMs?: number;
  /** ms between checks for stalled jobs. @defaultValue 30000 */
  stalledIntervalMs?: number;
}

/**
 * Feeds a model's BullMQ queue into its ModelServer and publishes each reply to the channel
 * the job names. BullMQ keeps lock renewal and stalled-job recovery; the batcher sees one
 * call per job. The job's return value carries the reply only when nobody received it, so
 * the API can find it there; otherwise nothing large is stored.
 */
export class QueueConsumer {
  private readonly worker: Worker<ScoringJob, ScoringReply | null>;
  private readonly publisher: ReplyPublisher;
  /** Replies published that no API instance was listening for. */
  unreceived = 0;

  constructor(
    private server: ModelServer,
    connection: Redis,
    publisherConnection: Redis,
    options: QueueConsumerOptions,
  ) {
    this.publisher = new ReplyPublisher(publisherConnection, new RedisKeys(options.prefix));
    this.worker = new Worker<ScoringJob, ScoringReply | null>(options.queue, (job) => this.process(job), {
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

  private async process(job: Job<ScoringJob>): Promise<ScoringReply | null> {
    const data = job.data;
    const pickedUpAt = epochMs();
    notifyObserver((o) => o.jobPickedUp?.(data, job.attemptsStarted));
    const reply = await this.server.handle(data);
    // Async job: nobody waits; the reply (an expiry too) becomes its stored outcome.
    if (data.async) {
      await this.publisher.store(reply, data.async);
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return null;
    }
    // An expired job's caller has been answered 504 by its API already, and a cancelled
    // job's caller is gone: nobody waits for these replies.
    if (!reply.ok && (reply.status === 499 || (reply.status === 504 && data.deadline <= Date.now()))) {
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return null;
    }
    const publishStartedAt = epochMs();
    const receivers = await this.publisher.publish(data.replyTo, reply);
    notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt, publishStartedAt, publishedAt: epochMs() }));
    if (receivers > 0) return null;
    this.unreceived++;
    return reply;
  }
}
