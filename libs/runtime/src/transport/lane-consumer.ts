import type { ChainableCommander, Redis } from 'ioredis';
import type { ScoringEnvelope } from '../../../contracts/src/index.js';
import { decodeLaneEntry, type LaneEntry } from './lane-entry.js';
import type { RedisKeys } from './redis-keys.js';
import type { AlsoSend, PipelineBuilder } from './reply-publisher.js';

/** @see LaneConsumer */
export interface LaneConsumerOptions {
  queue: string;
  workerId: string;
  /** Envelopes held at once (like BullMQ's worker concurrency). */
  concurrency: number;
  /** ms this worker's liveness key lasts without renewal; its envelopes are taken back after. */
  lockDurationMs: number;
  /** ms between looks for envelopes of dead workers to take back. */
  stalledIntervalMs: number;
  /** Times an envelope is taken back from a dead worker before its requests fail. @defaultValue 1 */
  maxTakenBack?: number;
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

/** Requests of an envelope taken back more than `maxTakenBack` times: fail them, don't retry. */
export type AbandonedHandler = (envelope: ScoringEnvelope) => Promise<void>;

/**
 * Moves every envelope of a dead worker's held list back to the lane (or, past the limit,
 * returns it to be failed), unless the worker's liveness key is back. Atomic, so two workers
 * sweeping at once take each envelope back once. KEYS: held, lane, alive, workers, counter.
 * ARGV: maxTakenBack, worker id.
 */
const TAKE_BACK = `
if redis.call('EXISTS', KEYS[3]) == 1 then return {} end
local abandoned = {}
local max = tonumber(ARGV[1])
local entry = redis.call('LPOP', KEYS[1])
while entry do
  local sep = string.find(entry, '|', 1, true)
  local n = tonumber(string.sub(entry, 1, sep - 1))
  redis.call('INCR', KEYS[5])
  if n >= max then abandoned[#abandoned + 1] = string.sub(entry, sep + 1)
  else redis.call('RPUSH', KEYS[2], (n + 1) .. string.sub(entry, sep)) end
  entry = redis.call('LPOP', KEYS[1])
end
redis.call('SREM', KEYS[4], ARGV[2])
return abandoned
`;

/** Moves one entry from a held list back to the lane, if it is still there. KEYS: held, lane. */
const PUT_BACK = `
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
return 0
`;

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
  /** Held entries not being served at the last sweep (see sweepOwn). */
  private strays = new Set<string>();
  private running: Promise<void> | undefined;
  private closing = false;
  private blockingId: number | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly keys: {
    lane: string;
    held: string;
    alive: string;
    workers: string;
    takenBack: string;
    counter: string;
  };
  /** Requests taken since the last BLMOVE: counted off with the next one, in its pipeline. */
  private toCountOff = 0;
  /** The envelope the loop waits for before reading again, and how its last flush gets a ride. */
  private awaited: { raw: string; ride: (read: ChainableCommander) => void } | undefined;

  constructor(
    private readonly blocking: Redis,
    private readonly commands: Redis,
    private readonly redisKeys: RedisKeys,
    private readonly options: LaneConsumerOptions,
    private readonly serve: EnvelopeHandler,
    private readonly abandon: AbandonedHandler,
    private readonly onError: (err: Error) => void,
  ) {
    const { queue, workerId } = options;
    this.keys = {
      lane: redisKeys.lane(queue),
      held: redisKeys.laneHeld(queue, workerId),
      alive: redisKeys.laneAlive(queue, workerId),
      workers: redisKeys.laneWorkers(queue),
      takenBack: redisKeys.laneTakenBack(queue),
      counter: redisKeys.queuedRequests(queue),
    };
  }

  /** Envelopes this worker serves now. */
  get active(): number {
    return this.held.size;
  }

  /** Announces this worker's liveness and starts taking envelopes. */
  async start(): Promise<void> {
    await this.refreshAlive();
    this.blockingId = Number(await this.blocking.client('ID'));
    const renew = setInterval(
      () => void this.refreshAlive().catch((err: Error) => this.onError(err)),
      Math.max(100, Math.floor(this.options.lockDurationMs / 3)),
    );
    const sweep = setInterval(
      () => void this.sweep().catch((err: Error) => this.onError(err)),
      this.options.stalledIntervalMs,
    );
    this.timers = [renew, sweep];
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
    for (const t of this.timers) clearInterval(t);
    // Anything still filed under this worker (nothing, normally) is taken back by the others.
    await this.commands.del(this.keys.alive).catch(() => 0);
    if ((await this.commands.llen(this.keys.held).catch(() => 1)) === 0)
      await this.commands.srem(this.keys.workers, this.options.workerId).catch(() => 0);
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
    const results = (await pipeline.exec()) ?? [];
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

  /** Renews the liveness key, and the membership in the workers set (lost if Redis restarted empty). */
  private async refreshAlive(): Promise<void> {
    await this.commands
      .multi()
      .set(this.keys.alive, '1', 'PX', this.options.lockDurationMs)
      .sadd(this.keys.workers, this.options.workerId)
      .exec();
  }

  /** Takes back the envelopes of dead workers, and puts back this worker's own strays. */
  private async sweep(): Promise<void> {
    const workers = await this.commands.smembers(this.keys.workers);
    for (const id of workers) {
      if (id === this.options.workerId) continue;
      const abandoned = (await this.commands.eval(
        TAKE_BACK,
        5,
        this.redisKeys.laneHeld(this.options.queue, id),
        this.keys.lane,
        this.redisKeys.laneAlive(this.options.queue, id),
        this.keys.workers,
        this.keys.takenBack,
        this.options.maxTakenBack ?? 1,
        id,
      )) as string[];
      for (const json of abandoned) await this.abandon(JSON.parse(json) as ScoringEnvelope);
    }
    await this.sweepOwn();
  }

  /**
   * An envelope filed under this worker that it does not serve (a BLMOVE whose reply was lost
   * in a reconnect) goes back to the lane once two sweeps in a row have seen it so: a single
   * sighting may be an envelope whose BLMOVE reply is still on its way.
   */
  private async sweepOwn(): Promise<void> {
    const filed = await this.commands.lrange(this.keys.held, 0, -1);
    const strays = new Set(filed.filter((raw) => !this.held.has(raw)));
    for (const raw of strays) {
      if (!this.strays.has(raw)) continue;
      await this.commands.eval(PUT_BACK, 2, this.keys.held, this.keys.lane, raw);
      strays.delete(raw);
    }
    this.strays = strays;
  }
}
