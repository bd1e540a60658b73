import type { Redis } from 'ioredis';
import { waitingRequests } from './redis-keys.js';
import { execAndRelease } from './pipeline-release.js';

interface Sample {
  /** Requests waiting when last read. */
  depth: number;
  at: number;
  /** Jobs this instance added to Redis since the sample was read. */
  addedSince: number;
  /** Jobs this instance is adding (not confirmed by Redis yet): no sample can include them. */
  pending: number;
  refreshing: boolean;
}

/**
 * Estimates how many requests wait in each queue without a Redis round trip on the request
 * path: the last sample (waiting jobs and the queue's request counter, refreshed in the
 * background at most every `maxAgeMs` while requests come) plus what this instance enqueued
 * since.
 */
export class QueueDepthSampler {
  private readonly samples = new Map<string, Sample>();

  constructor(
    private readonly redis: Redis,
    private readonly keysOf: (model: string) => { wait: string; prioritized: string; lane: string; counter: string },
    private readonly maxAgeMs = 100,
  ) {}

  depth(model: string): number {
    let sample = this.samples.get(model);
    if (!sample) {
      sample = { depth: 0, at: 0, addedSince: 0, pending: 0, refreshing: false };
      this.samples.set(model, sample);
    }
    if (!sample.refreshing && Date.now() - sample.at > this.maxAgeMs) void this.refresh(model, sample);
    return sample.depth + sample.addedSince + sample.pending;
  }

  /**
   * Counts a job this instance is adding: pending until Redis confirms the add, then added
   * since the sample. The add and the sample's read go over the same connection, so an add
   * confirmed before a sample's reply is in that sample, and one confirmed after is not.
   */
  noteEnqueued(model: string, added: Promise<unknown>): void {
    const sample = this.samples.get(model);
    if (!sample) return;
    sample.pending++;
    added.then(
      () => {
        sample.pending--;
        sample.addedSince++;
      },
      () => sample.pending--,
    );
  }

  private async refresh(model: string, sample: Sample): Promise<void> {
    sample.refreshing = true;
    const keys = this.keysOf(model);
    try {
      const started = Date.now();
      const results = await execAndRelease(
        this.redis.multi().llen(keys.wait).zcard(keys.prioritized).llen(keys.lane).get(keys.counter),
      );
      const jobs = [0, 1, 2].reduce((n, i) => n + Number(results?.[i]?.[1] ?? 0), 0);
      sample.depth = waitingRequests(jobs, Number(results?.[3]?.[1] ?? 0));
      sample.at = started;
      sample.addedSince = 0;
    } catch {
      // Redis trouble shows on enqueue; keep the last sample.
    } finally {
      sample.refreshing = false;
    }
  }
}
