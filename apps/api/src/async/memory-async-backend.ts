import { Logger } from '@nestjs/common';
import type { AsyncJobRecord, ScoringJob, ScoringReply } from '#contracts';
import { ASYNC_EXPIRY_GRACE_MS, type ScoringTransport, type StoredAsyncJob } from '#runtime';
import { backoffMs, type AsyncBackend, type WebhookDelivery } from './async-backend.js';
import { DeliveryError } from './webhooks/webhook-sender.js';

interface Entry {
  job: StoredAsyncJob;
  /** Epoch ms after which the entry is forgotten. */
  expiresAt: number;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
}

/**
 * Embedded mode: jobs go to the in-process model servers at once (the transport resolves by
 * the deadline, with a 504 then), results are kept in memory for their TTL, and webhooks are
 * sent from this process with the same retries as the BullMQ queue of the distributed mode.
 * Lost on restart, like everything else of an embedded instance.
 */
export class MemoryAsyncBackend implements AsyncBackend {
  readonly replyTo = 'embedded-async';
  private readonly jobs = new Map<string, Entry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sweep: NodeJS.Timeout;
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly transport: ScoringTransport,
    private readonly delivery: WebhookDelivery | undefined,
    private readonly retry: RetryPolicy,
  ) {
    this.sweep = setInterval(() => this.forgetExpired(), 10_000);
    this.sweep.unref();
  }

  async submit(job: ScoringJob, record: AsyncJobRecord): Promise<void> {
    const expiresAt = record.deadline + ASYNC_EXPIRY_GRACE_MS + record.ttlS * 1000;
    this.jobs.set(job.id, { job: { record }, expiresAt });
    void this.transport.submit(job).then((reply) => this.finish(job.id, reply));
  }

  async read(id: string): Promise<{ job: StoredAsyncJob; running: boolean } | undefined> {
    const entry = this.jobs.get(id);
    if (!entry || entry.expiresAt <= Date.now()) return undefined;
    return { job: entry.job, running: !entry.job.outcome };
  }

  async close(): Promise<void> {
    clearInterval(this.sweep);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private finish(id: string, reply: ScoringReply): void {
    const entry = this.jobs.get(id);
    if (!entry || entry.job.outcome) return;
    const finishedAt = Date.now();
    entry.job.outcome = { finishedAt, reply };
    entry.expiresAt = finishedAt + entry.job.record.ttlS * 1000;
    if (entry.job.record.callbackUrl && this.delivery) void this.attempt(entry.job, 1);
  }

  private async attempt(job: StoredAsyncJob, attempt: number): Promise<void> {
    try {
      await this.delivery!.deliver(job, attempt);
    } catch (err) {
      const retryable = !(err instanceof DeliveryError) || err.retryable;
      if (!retryable || attempt >= this.retry.attempts) {
        this.logger.warn(
          `webhook of job ${job.record.id} not delivered after ${attempt} attempt(s): ${(err as Error).message}`,
        );
        return;
      }
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          void this.attempt(job, attempt + 1);
        },
        backoffMs(this.retry.baseMs, attempt),
      );
      this.timers.add(timer);
    }
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [id, e] of this.jobs) if (e.expiresAt <= now) this.jobs.delete(id);
  }
}
