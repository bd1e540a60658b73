import type { AsyncJobRecord, ScoringJob } from '#contracts';
import type { StoredAsyncJob } from '#runtime';
import { statusBody } from './job-view.js';
import { DeliveryError, type WebhookSender } from './webhooks/webhook-sender.js';

/**
 * Where async jobs live: Redis (any API instance answers for any job; webhooks are a BullMQ
 * queue) or memory (embedded mode). Same routes and behaviour on top of either.
 */
export interface AsyncBackend {
  /** `replyTo` of async jobs. */
  readonly replyTo: string;
  /** Stores the record, schedules its webhook (if any), then enqueues the job. */
  submit(job: ScoringJob, record: AsyncJobRecord): Promise<void>;
  /** The job (expiry written when its deadline has passed), and whether a worker holds it. */
  read(id: string): Promise<{ job: StoredAsyncJob; running: boolean } | undefined>;
  close(): Promise<void>;
}

export const ASYNC_BACKEND = Symbol('ASYNC_BACKEND');

/** Sends a finished job's status to its callback URL: one attempt, signed. */
export class WebhookDelivery {
  constructor(private readonly sender: WebhookSender) {}

  /** Throws DeliveryError; `retryable` says whether another attempt may help. */
  async deliver(job: StoredAsyncJob, attempt: number): Promise<void> {
    const url = job.record.callbackUrl;
    if (!url) return;
    if (!job.outcome) throw new DeliveryError(`job ${job.record.id} has not finished yet`, true);
    await this.sender.deliver(url, statusBody(job), attempt);
  }
}

/** Wait before attempt `attempt + 1` (attempt counts from 1): base, 2 × base, 4 × base, ... */
export function backoffMs(baseMs: number, attempt: number): number {
  return baseMs * 2 ** (attempt - 1);
}
