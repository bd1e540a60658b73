/**
 * Redis names Switchyard uses besides BullMQ's own (`<prefix>:<queue>:...`). Model names
 * start with a letter or digit, so the `_` names below never collide with a queue.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Pub/sub channel of one API instance. */
  replyChannel(instanceId: string): string {
    return `${this.prefix}:_reply:${instanceId}`;
  }

  /** Pub/sub channel telling a model's workers to skip jobs whose callers went away. */
  cancelChannel(model: string): string {
    return `${this.prefix}:_cancel:${model}`;
  }

  /** Set of model names workers have announced. */
  get models(): string {
    return `${this.prefix}:_models`;
  }

  /** Hash: worker id → announcement JSON, for one model. */
  catalog(model: string): string {
    return `${this.prefix}:_catalog:${model}`;
  }

  /**
   * A reply no API instance received when it was published (e.g. during a reconnect), kept
   * briefly for its waiting caller's missed-reply check.
   */
  missedReply(id: string): string {
    return `${this.prefix}:_missed:${id}`;
  }

  /**
   * The `index`-th byte payload (e.g. an image file) of job `id`, stored beside the job
   * instead of inside it (see job-blobs.ts); it expires shortly after the job's deadline.
   */
  jobBlob(id: string, index: number): string {
    return `${this.prefix}:_blob:${id}:${index}`;
  }

  /**
   * Requests waiting in a queue: added by the API with its jobs, taken off by the worker at a
   * job's first pick-up. An envelope job holds several requests, so BullMQ's own counts (and
   * LLEN of the wait list) count jobs, not requests.
   */
  queuedRequests(queue: string): string {
    return `${this.prefix}:_queued:${queue}`;
  }

  /**
   * The queue's direct lane: a list of envelopes of synchronous requests, sent there instead
   * of to BullMQ while the queue's workers have room (see DirectLane).
   */
  lane(queue: string): string {
    return `${this.prefix}:_lane:${queue}`;
  }

  /** List of the lane envelopes one worker holds (moved there atomically as it takes them). */
  laneHeld(queue: string, workerId: string): string {
    return `${this.prefix}:_lane:${queue}:held:${workerId}`;
  }

  /** Expiring key a lane worker refreshes while it lives; once gone, others take back its envelopes. */
  laneAlive(queue: string, workerId: string): string {
    return `${this.prefix}:_lane:${queue}:alive:${workerId}`;
  }

  /** Set of the ids of workers that may hold lane envelopes of a queue. */
  laneWorkers(queue: string): string {
    return `${this.prefix}:_lane:${queue}:workers`;
  }

  /** Counter: lane envelopes taken back from workers that died holding them. */
  laneTakenBack(queue: string): string {
    return `${this.prefix}:_lane:${queue}:taken_back`;
  }

  /** Hash of one async job: `record` (set on accept) and `outcome` (written once). */
  asyncJob(id: string): string {
    return `${this.prefix}:_job:${id}`;
  }

  /** List of finished async jobs that have a webhook, for an API instance to deliver now. */
  get asyncDone(): string {
    return `${this.prefix}:_async_done`;
  }

  /** `replyTo` of async jobs: nothing subscribes; their replies are stored, not published. */
  get asyncReplyTo(): string {
    return `${this.prefix}:_async`;
  }
}

/** The BullMQ queue (under the same prefix) of webhook deliveries, consumed by API instances. */
export const WEBHOOK_QUEUE = '_webhooks';

/** The BullMQ queue that carries one model's jobs. */
export function queueNameFor(model: string): string {
  return model;
}

/**
 * Requests waiting, from the jobs waiting and the request counter: none when no job waits
 * (which also heals a counter that drifted, e.g. after jobs were removed by hand), and at
 * least one per waiting job.
 */
export function waitingRequests(jobs: number, counter: number): number {
  return jobs === 0 ? 0 : Math.max(jobs, counter);
}
