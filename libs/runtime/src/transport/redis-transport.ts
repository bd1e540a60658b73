import { Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { QueuedWork, ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import { QueueDepthSampler } from './queue-depth-sampler.js';
import { RedisCatalogReader } from './redis-catalog-reader.js';
import { createRedis, waitForRedis } from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { ReplyWaiter } from './reply-waiter.js';
import type { CallerGone, CatalogEntry, ScoringTransport } from './scoring-transport.js';
import { addEnveloped, addToLane, type Holder } from './envelope-adds.js';
import { detachBlobs, queueBlobWrites } from './job-blobs.js';
import { WriteCoalescer } from './write-coalescer.js';
import { execAndRelease } from './pipeline-release.js';

/** @see RedisTransport.connect */
export interface RedisTransportOptions {
  url: string;
  /** Key prefix for BullMQ queues and Switchyard's own keys. @defaultValue 'sy' */
  prefix: string;
  /** Unique per API process; names its reply channel. */
  instanceId: string;
  /** A worker whose last heartbeat is older is not counted as live. @defaultValue LIVE_WINDOW_MS (6000) */
  liveWindowMs?: number;
}

interface QueueEntry {
  queue: Queue<QueuedWork>;
  adds: WriteCoalescer<Submission, Holder>;
  /** Synchronous requests of this instance on this queue that await their reply. */
  outstanding: number;
}

/** A job to enqueue, and whether it goes to the direct lane instead of BullMQ. */
interface Submission {
  job: ScoringJob;
  lane: boolean;
}

/** A submission as it goes to Redis: its image files taken out (see job-blobs.ts). */
type DetachedJob = ReturnType<typeof detachBlobs> & { lane: boolean };

/** How long a request waits before the API looks for its reply in the job itself. */
const MISSED_REPLY_CHECK_MS = 1000;

/**
 * The API side of the distributed topology: enqueues requests, listens on this instance's own
 * reply channel, and resolves waiting callers. The synchronous requests accepted for one
 * queue in one turn of the event loop travel as one envelope. While this instance has fewer
 * such requests outstanding on a queue than the queue's live workers hold at once, envelopes
 * of default priority go to the queue's direct lane (one LPUSH; see LaneConsumer): nothing
 * waits then, so there is nothing for priorities to order. Otherwise, and for priority and
 * async requests, they go to BullMQ, whose per-job scripts are paid once per envelope. A
 * reply missed on the channel is found under its missed-reply key, where the worker leaves
 * replies nobody received.
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
    private readonly laneWriter: Redis,
  ) {
    this.keys = new RedisKeys(options.prefix);
    this.replyTo = this.keys.replyChannel(options.instanceId);
    this.catalogReader = new RedisCatalogReader(producer, this.keys, { liveWindowMs: options.liveWindowMs });
    this.depths = new QueueDepthSampler(producer, (model) => {
      const { queue } = this.queueFor(model);
      return {
        wait: queue.toKey('wait'),
        prioritized: queue.toKey('prioritized'),
        lane: this.keys.lane(model),
        counter: this.keys.queuedRequests(model),
      };
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
    // The lane's writes get a connection BullMQ never touches: ioredis copies every script
    // defined on a connection onto each MULTI it makes, and BullMQ defines 64 (~45 µs a MULTI).
    const laneWriter = createRedis(options.url, 'producer', `sy-api-lane-${options.instanceId}`);
    const connections = [producer, subscriber, laneWriter];
    // Errors are reported through status and request outcomes; without a listener ioredis
    // would print every reconnect attempt as an unhandled error event.
    for (const c of connections) c.on('error', () => undefined);
    await Promise.all(connections.map((c) => waitForRedis(c, 10_000)));
    const transport = new RedisTransport(options, producer, subscriber, laneWriter);
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

  submit(job: ScoringJob, gone?: CallerGone): Promise<ScoringReply> {
    if (this.closing) {
      return Promise.resolve({ id: job.id, ok: false, status: 503, error: 'this API instance is shutting down' });
    }
    if (gone?.aborted)
      return Promise.resolve({ id: job.id, ok: false, status: 499, error: 'client closed the request' });
    const queueName = job.queue ?? job.model;
    const entry = this.queueFor(queueName);
    const reply = this.waiter.wait(job.id, job.deadline);
    const lane = !job.priority && entry.outstanding < this.catalogReader.capacity(queueName);
    entry.outstanding++;
    void reply.finally(() => entry.outstanding--);
    const added = entry.adds.push({ job, lane });
    added.catch((err: Error) =>
      this.waiter.deliver({ id: job.id, ok: false, status: 503, error: `queue unavailable: ${err.message}` }),
    );
    this.depths.noteEnqueued(queueName, added);
    // Removing the job must wait for its add: removing first would find nothing, then add it.
    const cancel = (): void => {
      if (this.waiter.cancel(job.id))
        void added.then(
          (holder) => this.cancel(entry.queue, job, holder),
          () => undefined,
        );
    };
    gone?.addEventListener('abort', cancel, { once: true });
    return reply;
  }

  /**
   * Enqueues a job nobody waits for here (an async job): resolves once it is on its queue,
   * rejects when Redis refuses it.
   */
  async enqueue(job: ScoringJob): Promise<void> {
    if (this.closing) throw new Error('this API instance is shutting down');
    const queueName = job.queue ?? job.model;
    const added = this.queueFor(queueName).adds.push({ job, lane: false });
    this.depths.noteEnqueued(queueName, added);
    await added;
  }

  /** BullMQ state of a job of a queue ('unknown' once removed). */
  jobState(queue: string, id: string): Promise<string> {
    return this.queueFor(queue).queue.getJobState(id) as Promise<string>;
  }

  catalog(): Promise<Map<string, CatalogEntry>> {
    return this.catalogReader.get();
  }

  queueDepth(queue: string): number {
    return this.depths.depth(queue);
  }

  isHealthy(): boolean {
    return [this.producer, this.subscriber, this.laneWriter].every((c) => c.status === 'ready');
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.waiter.drained();
    clearInterval(this.sweep);
    await Promise.all([...this.queues.values()].map((q) => q.queue.close()));
    this.subscriber.disconnect();
    this.producer.disconnect();
    this.laneWriter.disconnect();
  }

  private queueFor(name: string): QueueEntry {
    let entry = this.queues.get(name);
    if (!entry) {
      const queue = new Queue<QueuedWork>(name, {
        connection: this.producer,
        prefix: this.options.prefix,
        skipWaitingForReady: true,
        // Nothing is kept of a finished job: replies travel on the reply channels, missed ones
        // under their own short-lived keys, async outcomes in their job records.
        defaultJobOptions: { removeOnComplete: true, removeOnFail: { count: 1000, age: 3600 } },
      });
      queue.on('error', () => undefined);
      const adds = new WriteCoalescer<Submission, Holder>((submissions) => this.add(name, queue, submissions));
      entry = { queue, adds, outstanding: 0 };
      this.queues.set(name, entry);
    }
    return entry;
  }

  /**
   * One turn's submissions for a queue: the lane's in one lane envelope, the others to
   * BullMQ, and their image files beside them, as binary strings (see job-blobs.ts).
   */
  private async add(name: string, queue: Queue<QueuedWork>, submissions: Submission[]): Promise<Holder[]> {
    const counter = this.keys.queuedRequests(name);
    const detached = submissions.map((s) => ({ lane: s.lane, ...detachBlobs(s.job) }));
    const toLane = detached.filter((d) => d.lane);
    const toQueue = detached.filter((d) => !d.lane);
    const [laneHolder, holders] = await Promise.all([
      toLane.length > 0
        ? addToLane(
            this.laneWriter,
            this.keys.lane(name),
            counter,
            toLane.map((d) => d.job),
            (transaction) => this.storeBlobs(transaction, toLane),
          )
        : undefined,
      toQueue.length > 0 ? this.addQueued(queue, counter, toQueue) : [],
    ]);
    let next = 0;
    return submissions.map((s) => (s.lane ? laneHolder! : holders[next++]!));
  }

  private async addQueued(queue: Queue<QueuedWork>, counter: string, jobs: DetachedJob[]): Promise<Holder[]> {
    // The blobs are in place before any worker can take the jobs that refer to them. (On the
    // lane's connection: BullMQ's scripts would be copied onto a pipeline of the producer's.)
    if (jobs.some((d) => d.blobs.length > 0)) {
      const pipeline = this.laneWriter.pipeline();
      this.storeBlobs(pipeline, jobs);
      const failed = (await execAndRelease(pipeline))?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    }
    const holders = await addEnveloped(
      queue,
      jobs.map((d) => d.job),
    );
    await this.producer.incrby(counter, jobs.length);
    return holders;
  }

  private storeBlobs(pipeline: ChainableCommander, jobs: DetachedJob[]): void {
    const now = Date.now();
    for (const d of jobs) if (d.blobs.length > 0) queueBlobWrites(pipeline, this.keys, d.job, d.blobs, now);
  }

  /**
   * The caller went away. Once every request of its job is gone, removes the job if it still
   * waits; until then (or when a worker holds it already) tells the workers to skip the request.
   */
  private async cancel(queue: Queue, job: ScoringJob, holder: Holder): Promise<void> {
    const queueName = job.queue ?? job.model;
    try {
      holder.cancelled++;
      const removed = async (): Promise<boolean> =>
        holder.lane
          ? (await this.laneWriter.lrem(this.keys.lane(queueName), 1, holder.lane)) === 1
          : (await queue.remove(holder.jobId)) === 1;
      if (holder.cancelled === holder.items && (await removed())) {
        await this.producer.decrby(this.keys.queuedRequests(queueName), holder.items);
        return;
      }
      await this.producer.publish(this.keys.cancelChannel(queueName), job.id);
    } catch {
      // Best effort: an uncancelled job is still dropped at its deadline.
    }
  }

  /** A message on the reply channel: the replies of one worker tick for this instance. */
  private onReply(message: string): void {
    let replies: ScoringReply | ScoringReply[];
    try {
      replies = JSON.parse(message) as ScoringReply | ScoringReply[];
    } catch {
      return; // not ours: nothing else publishes on this channel
    }
    for (const reply of Array.isArray(replies) ? replies : [replies]) this.waiter.deliver(reply);
  }

  /** Looks for replies of long-waiting requests under their missed-reply keys. */
  private async findMissedReplies(olderThanMs: number): Promise<void> {
    const waiting = this.waiter.waitingLongerThan(olderThanMs);
    if (waiting.length === 0 || this.producer.status !== 'ready') return;
    const values = await this.producer.mget(waiting.map(({ id }) => this.keys.missedReply(id))).catch(() => []);
    for (const value of values) {
      if (typeof value === 'string') this.waiter.deliver(JSON.parse(value) as ScoringReply);
    }
  }
}
