import type { Redis } from 'ioredis';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import { queueOutcomeWrite } from '../async/redis-async-store.js';
import type { RedisKeys } from './redis-keys.js';
import { WriteCoalescer } from './write-coalescer.js';

interface Outgoing {
  channel: string;
  reply: ScoringReply;
  /** Async job: store the reply as its outcome instead of publishing it. */
  store?: NonNullable<ScoringJob['async']>;
}

/**
 * Publishes replies to the API instances' channels. A batch's items finish in the same tick,
 * so their replies leave in one pipeline: one round trip per batch, not per job.
 * Resolves to the number of subscribers that received each reply (0: nobody listened).
 */
export class ReplyPublisher {
  private readonly coalescer: WriteCoalescer<Outgoing, number>;

  constructor(redis: Redis, keys?: RedisKeys) {
    this.coalescer = new WriteCoalescer<Outgoing, number>(async (items) => {
      const pipeline = redis.pipeline();
      const firstCommand: number[] = [];
      for (const { channel, reply, store } of items) {
        firstCommand.push(pipeline.length);
        if (store && keys) queueOutcomeWrite(pipeline, keys, reply, store);
        else pipeline.publish(channel, JSON.stringify(reply));
      }
      const results = (await pipeline.exec()) ?? [];
      // A publish resolves to its receivers; a stored outcome counts as received (1).
      return firstCommand.map((i, n) => {
        const [err, value] = results[i] ?? [new Error('no result')];
        return err ? 0 : items[n]!.store ? 1 : Number(value);
      });
    });
  }

  publish(channel: string, reply: ScoringReply): Promise<number> {
    return this.coalescer.push({ channel, reply });
  }

  /** Stores an async job's reply as its outcome, in the same pipeline as the batch's publishes. */
  store(reply: ScoringReply, settings: NonNullable<ScoringJob['async']>): Promise<number> {
    return this.coalescer.push({ channel: '', reply, store: settings });
  }
}
