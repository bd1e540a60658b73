import type { ChainableCommander, Redis } from 'ioredis';
import type { ScoringEnvelope } from '../../../contracts/src/index.js';
import { decodeLaneEntry, type LaneEntry } from './lane-entry.js';
import type { RedisKeys } from './redis-keys.js';
import { type AbandonedHandler, LaneSweeper, type LaneSweeperOptions } from './lane-sweeper.js';
import type { AlsoSend, PipelineBuilder } from './reply-publisher.js';
import { execAndRelease } from './pipeline-release.js';

/** @see LaneConsumer */
export interface LaneConsumerOptions extends LaneSweeperOptions {
  /** Envelopes held at once (like BullMQ's worker concurrency). */
  concurrency: number;
  /**
   * ms an envelope whose move left the lane empty may take to be served before the next
   * read goes out anyway (see LaneConsumer). @defaultValue 10
   */
  idleFinishMs?: number;
}

/**
 * What the consumer does with an envelope: serve it. `attempt` counts deliveries from 1;
 * `release` files the envelope off the held list and must go in the pipeline of its last
 * reply (or be run on its own), so a crash in between leaves it to be taken back. When the
 * envelope emptied the lane, `release` also offers to carry that pipeline with the next read.
 */
export type EnvelopeHandler = (envelope: ScoringEnvelope, attempt: number, release: AlsoSend) => Promise<void>;

/**
 * Consumes a queue's direct lane: the API's synchronous requests, enveloped, in a plain Redis
 * list. One `BLMOVE` takes an envelope and files it in this worker's held list in the same
 * step, so a crash loses nothing: while the worker lives it refreshes a liveness key, and
 * once that key is gone any worker of the queue moves the held envelopes back to the lane
 * (BullMQ's stalled-job check, for the lane). Taking an envelope costs one round trip and
 * finishing it one more, against BullMQ's five scripts per job, which is what an idle or
 * lightly loaded queue pays per request. When a move leaves the lane empty, the envelope is
 * served before the next read (for up to `idleFinishMs`), and its last reply goes out in the
 * same write as that read: at low load a request then costs the worker one write, and Redis
 * one wake-up for the reply and the read together.
 */
export class LaneConsumer {
  private readonly held = new Set<string>();
  private readonly slotFreed: (() => void)[] = [];
  private running: Promise<void> | undefined;
  private closing = false;
  private blockingId: number | undefined;
  private readonly sweeper: LaneSweeper;
  private readonly keys: { lane: string; held: string; counter: string };
  /** Requests taken since the last BLMOVE: counted off with the next one, in its pipeline. */
  private toCountOff = 0;
  /** The envelope the loop waits for before reading again, and how its last flush gets a ride. */
  private awaited: { raw: string; ride: (read: ChainableCommander) => void } | undefined;

  constructor(
    private readonly blocking: Redis,
    private readonly commands: Redis,
    redisKeys: RedisKeys,
    private readonly options: LaneConsumerOptions,
    private readonly serve: EnvelopeHandler,
    abandon: AbandonedHandler,
    private readonly onError: (err: Error) => void,
  ) {
    const { queue, workerId } = options;
    this.keys = {
      lane: redisKeys.lane(queue),
      held: redisKeys.laneHeld(queue, workerId),
      counter: redisKeys.queuedRequests(queue),
    };
    this.sweeper = new LaneSweeper(commands, redisKeys, options, (raw) => this.held.has(raw), abandon, onError);
  }

  /** Envelopes this worker serves now. */
  get active(): number {
    return this.held.size;
  }

  /** Announces this worker's liveness and starts taking envelopes. */
  async start(): Promise<void> {
    await this.sweeper.start();
    this.blockingId = Number(await this.blocking.client('ID'));
    this.running = this.loop();
  }

  /** Stops taking envelopes, finishes those held, then says goodbye. */
  async stop(): Promise<void> {
    this.closing = true;
    // Wake the blocked BLMOVE: it returns nil as on a timeout, having moved nothing.
    if (this.blockingId !== undefined) await this.commands.client('UNBLOCK', this.blockingId).catch(() => 0);
    await this.running;
    if (this.toCountOff > 0) await this.commands.decrby(this.keys.counter, this.toCountOff).catch(() => 0);
    while (this.held.size > 0) await new Promise<void>((r) => this.slotFreed.push(r));
    await this.sweeper.stop();
  }

  private async loop(): Promise<void> {
    /** The next read's pipeline, holding the last flush of an envelope done but for that write. */
    let carried: ChainableCommander | undefined;
    while (!this.closing) {
      while (!carried && this.held.size >= this.options.concurrency && !this.closing)
        await new Promise<void>((r) => this.slotFreed.push(r));
      if (this.closing) break;
      let next: { raw: string | null; left: number };
      try {
        next = await this.nextEntry(carried);
      } catch (err) {
        if (this.closing) return;
        this.onError(err as Error);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      } finally {
        carried = undefined;
      }
      if (next.raw === null) continue;
      const idle = next.left === 0;
      const served = this.take(next.raw, idle);
      // Nothing else waits: finish this envelope before the next read, so that read's socket
      // write is not paid between this request and its reply (at low load it is the worker's
      // costliest step), and send the envelope's last reply with it. Once envelopes queue up,
      // reads overlap serving again.
      if (served && idle) carried = await this.servedOrCarried(next.raw, served);
    }
    if (carried) {
      // Stopping: the flush still goes out, without a read behind it.
      await carried.exec().catch((err: Error) => this.onError(err));
    }
  }

  /**
   * Waits until the envelope is served, its last flush asks for a ride (returned), or
   * `idleFinishMs` passed; a flush that asks later goes out on its own.
   */
  private async servedOrCarried(raw: string, served: Promise<void>): Promise<ChainableCommander | undefined> {
    let carried: ChainableCommander | undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.awaited = { raw, ride: (read) => resolve(void (carried = read)) };
      void served.then(resolve);
      timer = setTimeout(resolve, this.options.idleFinishMs ?? 10);
    });
    clearTimeout(timer);
    this.awaited = undefined;
    return carried;
  }

  /**
   * BLMOVE, with the previous envelope's requests taken off the waiting count and the last
   * flush of the envelope served before it (if any) in the same write, and the lane's length
   * after the move.
   */
  private async nextEntry(pipeline = this.readPipeline()): Promise<{ raw: string | null; left: number }> {
    pipeline.blmove(this.keys.lane, this.keys.held, 'RIGHT', 'LEFT', 5);
    pipeline.llen(this.keys.lane);
    const results = (await execAndRelease(pipeline)) ?? [];
    const aborted: [Error, null] = [new Error('lane read aborted'), null];
    const [err, raw] = results[results.length - 2] ?? aborted;
    if (err) throw err;
    const [, left] = results[results.length - 1] ?? aborted;
    return { raw: raw as string | null, left: typeof left === 'number' ? left : 0 };
  }

  /**
   * Serves an entry; resolves once it is served (undefined when it was unreadable). `idle`:
   * the loop waits for it before reading again, so its last flush may ride with that read.
   */
  private take(raw: string, idle: boolean): Promise<void> | undefined {
    let entry: LaneEntry;
    try {
      entry = decodeLaneEntry(raw);
    } catch (err) {
      this.onError(new Error(`dropped an unreadable lane entry: ${(err as Error).message}`));
      void this.commands.lrem(this.keys.held, 1, raw).catch(() => 0);
      return undefined;
    }
    this.held.add(raw);
    // Taken back from a dead worker: counted off at its first pick-up already.
    if (entry.takenBack === 0) this.countOff(entry.envelope.items.length);
    let released = false;
    const release: AlsoSend = {
      add: (pipeline) => {
        released = true;
        pipeline.lrem(this.keys.held, 1, raw);
      },
      carry: idle ? (flush) => this.ride(raw, flush) : undefined,
    };
    return this.serve(entry.envelope, entry.takenBack + 1, release)
      .catch((err: Error) => this.onError(err))
      .finally(() => {
        // Normally filed off with its last reply; if serving failed before that, now.
        if (!released) this.commands.lrem(this.keys.held, 1, raw).catch((err: Error) => this.onError(err));
        this.held.delete(raw);
        this.slotFreed.shift()?.();
      });
  }

  /**
   * The next read's pipeline, opening with the pending count-off. The count-off goes before
   * any carried reply on purpose: Redis writes to the clients it has replies for in the reverse
   * order of their first queued reply, so the API's message then goes out before this
   * connection's replies.
   */
  private readPipeline(): ChainableCommander {
    const pipeline = this.blocking.pipeline();
    const countOff = this.toCountOff;
    this.toCountOff = 0;
    if (countOff > 0) pipeline.decrby(this.keys.counter, countOff);
    return pipeline;
  }

  /** Builds an envelope's flush into the next read if the loop still waits for that envelope. */
  private ride(raw: string, flush: PipelineBuilder): boolean {
    if (this.awaited?.raw !== raw) return false;
    const read = this.readPipeline();
    flush(read);
    this.awaited.ride(read);
    this.awaited = undefined;
    return true;
  }

  /** Rides with the next BLMOVE while there is a free slot for one; else goes out now. */
  private countOff(requests: number): void {
    if (this.held.size < this.options.concurrency && !this.closing) this.toCountOff += requests;
    else this.commands.decrby(this.keys.counter, requests).catch((err: Error) => this.onError(err));
  }
}
