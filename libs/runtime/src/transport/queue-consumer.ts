import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  isEnvelope,
  type QueuedWork,
  type ScoringEnvelope,
  type ScoringJob,
  type ScoringReply,
} from '../../../contracts/src/index.js';
import type { ModelServer } from '../serving/model-server.js';
import { epochMs, notifyObserver } from '../serving/serving-observer.js';
import { attachBlobs, blobKeys } from './job-blobs.js';
import { LaneConsumer } from './lane-consumer.js';
import { RedisKeys } from './redis-keys.js';
import { ReplyPublisher, type AlsoSend } from './reply-publisher.js';

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
  /** This worker's id: names its held list on the queue's direct lane. */
  workerId: string;
}

/**
 * Feeds a model's BullMQ queue into its ModelServer and publishes each reply to the channel
 * its request names. A job is one request (async) or an envelope of requests; BullMQ keeps
 * lock renewal and stalled-job recovery per job, the batcher sees one call per request.
 * Nothing is stored as the job's return value: replies travel on the channels.
 */
export class QueueConsumer {
  private readonly worker: Worker<QueuedWork, null>;
  private readonly lane: LaneConsumer;
  private readonly publisher: ReplyPublisher;
  private readonly keys: RedisKeys;
  /** The queue's waiting-request counter (see RedisKeys.queuedRequests). */
  private readonly queuedRequests: string;
  /** Replies published that no API instance was listening for. */
  unreceived = 0;

  constructor(
    private server: ModelServer,
    connection: Redis,
    private readonly publisherConnection: Redis,
    laneConnection: Redis,
    options: QueueConsumerOptions,
    private readonly onError: (err: Error) => void,
  ) {
    const keys = new RedisKeys(options.prefix);
    this.keys = keys;
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
    this.lane = new LaneConsumer(
      laneConnection,
      publisherConnection,
      keys,
      {
        queue: options.queue,
        workerId: options.workerId,
        concurrency: options.concurrency,
        lockDurationMs: options.lockDurationMs ?? 30_000,
        stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
      },
      (envelope, attempt, release) => this.serveWork(envelope, attempt, { countOff: false, release }),
      (envelope) => this.failAbandoned(envelope),
      onError,
    );
  }

  /** Jobs and lane envelopes this worker holds now. */
  get active(): number {
    return this.lane.active;
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

  /** Starts fetching jobs from BullMQ and the direct lane. Call once the model is warm. */
  async start(): Promise<void> {
    this.worker.on('error', this.onError);
    await this.lane.start();
    void this.worker.run().catch(this.onError);
  }

  /** Stops fetching, lets jobs in flight finish and publish, then closes. */
  async stop(): Promise<void> {
    await Promise.all([this.worker.close(), this.lane.stop()]);
  }

  isRunning(): boolean {
    return this.worker.isRunning();
  }

  private async process(job: Job<QueuedWork>): Promise<null> {
    await this.serveWork(job.data, job.attemptsStarted);
    return null;
  }

  /**
   * Serves a job's or a lane envelope's requests; `attempt` counts deliveries from 1.
   * `release` rides with the last reply (the lane files its envelope off with it);
   * `countOff: false` when the caller takes the requests off the waiting count itself.
   */
  private async serveWork(
    work: QueuedWork,
    attempt: number,
    { countOff = true, release }: { countOff?: boolean; release?: AlsoSend } = {},
  ): Promise<void> {
    const items = isEnvelope(work) ? work.items : [work];
    // Work taken back from a crashed worker was counted off at its first pick-up already.
    if (countOff && attempt <= 1) this.publisher.countOff(this.queuedRequests, items.length);
    // Image files stored beside their requests: read in one round trip, deleted with the
    // work's last reply.
    const keys = items.flatMap((item) => blobKeys(this.keys, item));
    const blobs = keys.length > 0 ? await this.publisherConnection.mgetBuffer(...keys) : [];
    const done: AlsoSend | undefined =
      keys.length === 0
        ? release
        : {
            add: (pipeline) => {
              release?.add(pipeline);
              pipeline.del(...keys);
            },
            carry: release?.carry,
          };
    let remaining = items.length;
    const last = (): AlsoSend | undefined => (--remaining === 0 ? done : undefined);
    let at = 0;
    await Promise.all(
      items.map((item) => {
        if (!item.blobs) return this.serve(item, attempt, last);
        const mine = blobs.slice(at, (at += item.blobs));
        let whole: ScoringJob;
        try {
          whole = attachBlobs(item, mine);
        } catch (err) {
          const expired = item.deadline <= Date.now();
          const error = expired ? 'deadline passed before the job was picked up' : (err as Error).message;
          return this.serve(item, attempt, last, { id: item.id, ok: false, status: expired ? 504 : 500, error });
        }
        return this.serve(whole, attempt, last);
      }),
    );
  }

  /** Lane requests whose workers died twice while holding them: they fail rather than run again. */
  private async failAbandoned(envelope: ScoringEnvelope): Promise<void> {
    const error = 'the workers serving this request stopped twice while holding it; it is not retried';
    this.onError(new Error(`${envelope.items.length} lane requests failed: ${error}`));
    await Promise.all(
      envelope.items.map((item) =>
        this.publisher.publish(item.replyTo, { id: item.id, ok: false, status: 500, error }, item.deadline),
      ),
    );
  }

  /**
   * Serves one request and sends its reply where it belongs. `last()` is called once the
   * reply is known and returns what must ride with it when it is the work's last one.
   */
  private async serve(
    data: ScoringJob,
    attempt: number,
    last: () => AlsoSend | undefined,
    /** The reply, when the request failed before it could be handled (its image is gone). */
    failed?: ScoringReply,
  ): Promise<void> {
    const pickedUpAt = epochMs();
    notifyObserver((o) => o.jobPickedUp?.(data, attempt));
    const reply = failed ?? (await this.server.handle(data));
    const also = last();
    // Async job: nobody waits; the reply (an expiry too) becomes its stored outcome.
    if (data.async) {
      await this.publisher.store(reply, data.async, also);
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return;
    }
    // An expired job's caller has been answered 504 by its API already, and a cancelled
    // job's caller is gone: nobody waits for these replies.
    if (!reply.ok && (reply.status === 499 || (reply.status === 504 && data.deadline <= Date.now()))) {
      if (also) await this.publisher.send(also);
      notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt }));
      return;
    }
    const publishStartedAt = epochMs();
    const receivers = await this.publisher.publish(data.replyTo, reply, data.deadline, also);
    notifyObserver((o) => o.jobFinished?.(data, reply, { pickedUpAt, publishStartedAt, publishedAt: epochMs() }));
    if (receivers === 0) this.unreceived++;
  }
}
