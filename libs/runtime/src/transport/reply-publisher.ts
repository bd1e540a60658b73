import type { ChainableCommander, Redis } from 'ioredis';
import type { ScoringJob, ScoringReply } from '../../../contracts/src/index.js';
import { queueOutcomeWrite } from '../async/redis-async-store.js';
import type { RedisKeys } from './redis-keys.js';
import { WriteCoalescer } from './write-coalescer.js';
import { execAndRelease } from './pipeline-release.js';

interface Outgoing {
  channel: string;
  reply: ScoringReply;
  /** Epoch ms after which nobody waits for the reply: how long a missed one is kept. */
  deadline: number;
  /** Async job: store the reply as its outcome instead of publishing it. */
  store?: NonNullable<ScoringJob['async']>;
  /** Commands to send after this reply, in the same pipeline (e.g. filing off a lane envelope). */
  also?: AlsoSend;
}

/** Adds commands to a pipeline. */
export type PipelineBuilder = (pipeline: ChainableCommander) => void;

/**
 * What rides with a reply: commands that go after it in the same pipeline and, optionally, a
 * connection about to write anyway that offers to carry the whole flush.
 */
export interface AlsoSend {
  /** Adds the commands, after every reply of the flush. */
  add: PipelineBuilder;
  /**
   * Offers to send the flush on another connection's next write (the lane's next read: one
   * write for a reply and the read after it). Returns true when it took the flush, having
   * built it into that write at once; its results then arrive command by command.
   */
  carry?: (flush: PipelineBuilder) => boolean;
}

/** Stands for "no reply" in an item that only carries commands (see `send`). */
const NO_REPLY: ScoringReply = { id: '', ok: false, status: 0, error: '' };

/** A missed reply outlives its deadline by this much, for clock skew between hosts. */
const MISSED_REPLY_GRACE_MS = 5_000;

/**
 * Publishes replies to the API instances' channels. A batch's items finish in the same tick,
 * so their replies leave in one pipeline with one PUBLISH per API instance (a JSON array):
 * one round trip per batch, not per job. A reply nobody received (its API instance was
 * reconnecting) is kept under its missed-reply key until its deadline, where the API looks.
 * Resolves to the number of subscribers that received each reply (0: nobody listened).
 */
export class ReplyPublisher {
  private readonly coalescer: WriteCoalescer<Outgoing, number>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.coalescer = new WriteCoalescer<Outgoing, number>((items) => this.flush(items));
  }

  /** Publishes a reply; `also` rides in the same pipeline, after it. */
  publish(channel: string, reply: ScoringReply, deadline: number, also?: AlsoSend): Promise<number> {
    return this.coalescer.push({ channel, reply, deadline, also });
  }

  /** Stores an async job's reply as its outcome, in the same pipeline as the batch's publishes. */
  store(reply: ScoringReply, settings: NonNullable<ScoringJob['async']>, also?: AlsoSend): Promise<number> {
    return this.coalescer.push({ channel: '', reply, deadline: 0, store: settings, also });
  }

  /** Sends commands with the next flush (when there is no reply to ride with). */
  async send(also: AlsoSend): Promise<void> {
    await this.coalescer.push({ channel: '', reply: NO_REPLY, deadline: 0, also });
  }

  /**
   * Takes picked-up requests off a queue's waiting-request counter. Fire and forget: the
   * counter only feeds admission estimates and metrics, and heals when the queue empties.
   */
  countOff(counter: string, requests: number): void {
    this.redis.decrby(counter, requests).catch(() => undefined);
  }

  private async flush(items: Outgoing[]): Promise<number[]> {
    // Each result is taken as its own reply arrives: a carried flush's pipeline resolves only
    // once the read behind it has.
    const received: Promise<number>[] = [];
    const build: PipelineBuilder = (pipeline) => {
      const byChannel = new Map<string, number[]>();
      items.forEach((item, i) => {
        if (item.reply === NO_REPLY) received[i] = Promise.resolve(0);
        else if (item.store)
          // A stored outcome counts as received (1).
          received[i] = settled(
            (done) => queueOutcomeWrite(pipeline, this.keys, item.reply, item.store!, Date.now(), done),
            1,
          );
        else {
          const group = byChannel.get(item.channel) ?? [];
          if (group.length === 0) byChannel.set(item.channel, group);
          group.push(i);
        }
      });
      for (const [channel, group] of byChannel) {
        const message = group.length === 1 ? items[group[0]!]!.reply : group.map((i) => items[i]!.reply);
        // A publish resolves to its receivers.
        const receivers = settled((done) => pipeline.publish(channel, JSON.stringify(message), done));
        for (const i of group) received[i] = receivers;
      }
      // After every publish: what rides along must not go out before its replies.
      for (const item of items) item.also?.add(pipeline);
    };
    if (!items.some((item) => item.also?.carry?.(build))) {
      const pipeline = this.redis.pipeline();
      build(pipeline);
      await execAndRelease(pipeline);
    }
    const counts = await Promise.all(received);
    await this.keepMissed(items.filter((item, i) => !item.store && item.reply !== NO_REPLY && counts[i] === 0));
    return counts;
  }

  private async keepMissed(missed: Outgoing[]): Promise<void> {
    if (missed.length === 0) return;
    const pipeline = this.redis.pipeline();
    const now = Date.now();
    for (const { reply, deadline } of missed) {
      const ttl = Math.max(1, deadline - now) + MISSED_REPLY_GRACE_MS;
      pipeline.set(this.keys.missedReply(reply.id), JSON.stringify(reply), 'PX', ttl);
    }
    await execAndRelease(pipeline);
  }
}

/**
 * The result of one pipelined command as a number: `valueOnSuccess`, or the reply itself when
 * that is not given, and 0 when the command failed.
 */
function settled(
  send: (done: (err?: Error | null, value?: unknown) => void) => void,
  valueOnSuccess?: number,
): Promise<number> {
  return new Promise((resolve) => send((err, value) => resolve(err ? 0 : (valueOnSuccess ?? Number(value)))));
}
