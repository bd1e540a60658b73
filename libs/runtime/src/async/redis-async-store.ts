import type { Callback, ChainableCommander, Redis } from 'ioredis';
import type { AsyncJobOutcome, AsyncJobRecord, ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import type { RedisKeys } from '../transport/redis-keys.js';

/**
 * How long after its deadline an async job without an outcome counts as expired: a job a
 * worker took just before its deadline may still finish and store its reply in this window.
 */
export const ASYNC_EXPIRY_GRACE_MS = 2000;

const RECORD = 'record';
const OUTCOME = 'outcome';

/**
 * Adds the writes that store an async job's outcome to a pipeline: the first outcome wins
 * (HSETNX), the key then lives `ttlS` more seconds, and with `notify` the id is pushed for
 * webhook delivery. The worker's reply pipeline and the API's expiry path both use this.
 * `written` is called with the result of the outcome's write, as soon as it arrives.
 */
export function queueOutcomeWrite(
  pipeline: ChainableCommander,
  keys: RedisKeys,
  reply: ScoringReply,
  settings: NonNullable<ScoringJob['async']>,
  finishedAt = Date.now(),
  written?: Callback<number>,
): void {
  const key = keys.asyncJob(reply.id);
  const outcome: AsyncJobOutcome = { finishedAt, reply };
  // (An undefined callback would be sent as an argument.)
  if (written) pipeline.hsetnx(key, OUTCOME, JSON.stringify(outcome), written);
  else pipeline.hsetnx(key, OUTCOME, JSON.stringify(outcome));
  pipeline.expire(key, Math.max(1, Math.ceil(settings.ttlS)));
  if (settings.notify) pipeline.lpush(keys.asyncDone, reply.id);
}

/** An async job as stored: its record, and its outcome once there is one. */
export interface StoredAsyncJob {
  record: AsyncJobRecord;
  outcome?: AsyncJobOutcome;
}

/**
 * Async job records and outcomes in Redis, readable by every API instance. One hash per job,
 * so record and outcome expire together.
 */
export class RedisAsyncStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Stores the record; it lives until the deadline, the grace and then the TTL have passed. */
  async create(record: AsyncJobRecord): Promise<void> {
    const key = this.keys.asyncJob(record.id);
    const lifeS = Math.ceil((record.deadline - Date.now() + ASYNC_EXPIRY_GRACE_MS) / 1000) + record.ttlS;
    await this.redis.multi().hset(key, RECORD, JSON.stringify(record)).expire(key, Math.max(1, lifeS)).exec();
  }

  async read(id: string): Promise<StoredAsyncJob | undefined> {
    const [record, outcome] = await this.redis.hmget(this.keys.asyncJob(id), RECORD, OUTCOME);
    if (!record) return undefined;
    return {
      record: JSON.parse(record) as AsyncJobRecord,
      outcome: outcome ? (JSON.parse(outcome) as AsyncJobOutcome) : undefined,
    };
  }

  /**
   * Reads a job and, when its deadline and the grace have passed without an outcome, writes
   * the `expired` outcome (unless a worker's wins the race) and reads again.
   */
  async readFinalizing(id: string, now = Date.now()): Promise<StoredAsyncJob | undefined> {
    const job = await this.read(id);
    if (!job || job.outcome || now < job.record.deadline + ASYNC_EXPIRY_GRACE_MS) return job;
    const pipeline = this.redis.pipeline();
    queueOutcomeWrite(pipeline, this.keys, expiredReply(id), { ttlS: job.record.ttlS }, now);
    await pipeline.exec();
    return this.read(id);
  }

  /** Ids of finished jobs with webhooks, each popped by exactly one caller. */
  async popDone(max: number): Promise<string[]> {
    return (await this.redis.rpop(this.keys.asyncDone, max)) ?? [];
  }
}

export function expiredReply(id: string): ScoringReply {
  return { id, ok: false, status: 504, error: 'deadline exceeded: the job was not computed in time' };
}
