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
