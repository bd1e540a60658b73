import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { QueuedWork, ScoringJob } from '../../../contracts/src/index.js';
import { encodeLaneEntry } from './lane-entry.js';
import { execAndRelease } from './pipeline-release.js';

/** Where an accepted request went: the BullMQ job holding it, alone or with others. */
export interface Holder {
  jobId: string;
  /** Requests in that job. */
  items: number;
  /** Of those, how many callers went away (the job is removed when all have). */
  cancelled: number;
  /** Set when the requests went to the direct lane: the stored entry (what LREM removes). */
  lane?: string;
}

/** One BullMQ job to add. */
export interface BulkJob {
  name: string;
  data: QueuedWork;
  opts: { jobId: string; priority?: number };
}

/** The one method of BullMQ's Queue this needs (a fake in unit tests). */
export interface BulkAdder {
  addBulk(jobs: BulkJob[]): Promise<unknown>;
}

/**
 * Adds one turn's jobs for a queue: each async job alone (its id is the BullMQ job id its
 * status route looks up), the synchronous ones as one envelope per priority.
 */
export async function addEnveloped(queue: BulkAdder, jobs: ScoringJob[]): Promise<Holder[]> {
  const holders: Holder[] = new Array<Holder>(jobs.length);
  const adds: BulkJob[] = [];
  const envelopes = new Map<number, { holder: Holder; items: ScoringJob[] }>();
  jobs.forEach((job, i) => {
    const priority = job.priority ? { priority: job.priority } : {};
    if (job.async) {
      holders[i] = { jobId: job.id, items: 1, cancelled: 0 };
      adds.push({ name: 'score', data: job, opts: { jobId: job.id, ...priority } });
      return;
    }
    let envelope = envelopes.get(job.priority ?? 0);
    if (!envelope) {
      envelope = { holder: { jobId: `e-${randomUUID()}`, items: 0, cancelled: 0 }, items: [] };
      envelopes.set(job.priority ?? 0, envelope);
      adds.push({
        name: 'score',
        data: { items: envelope.items },
        opts: { jobId: envelope.holder.jobId, ...priority },
      });
    }
    envelope.items.push(job);
    envelope.holder.items++;
    holders[i] = envelope.holder;
  });
  await queue.addBulk(adds);
  return holders;
}

/**
 * Puts one turn's lane requests on the queue's direct lane as one envelope, and counts them
 * on the waiting-request counter in the same transaction, so a depth sample never sees one
 * without the other. `before` adds writes the envelope needs in place first (its blobs).
 */
export async function addToLane(
  redis: Redis,
  lane: string,
  counter: string,
  jobs: ScoringJob[],
  before?: (transaction: ChainableCommander) => void,
): Promise<Holder> {
  const entry = encodeLaneEntry({ items: jobs });
  const transaction = redis.multi();
  before?.(transaction);
  const results = await execAndRelease(transaction.lpush(lane, entry).incrby(counter, jobs.length));
  const failed = results?.find(([err]) => err)?.[0];
  if (!results || failed) throw failed ?? new Error('lane write aborted');
  return { jobId: lane, items: jobs.length, cancelled: 0, lane: entry };
}
