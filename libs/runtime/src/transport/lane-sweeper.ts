import type { Redis } from 'ioredis';
import type { ScoringEnvelope } from '../../../contracts/src/index.js';
import type { RedisKeys } from './redis-keys.js';

/** @see LaneSweeper */
export interface LaneSweeperOptions {
  queue: string;
  workerId: string;
  /** ms this worker's liveness key lasts without renewal; its envelopes are taken back after. */
  lockDurationMs: number;
  /** ms between looks for envelopes of dead workers to take back. */
  stalledIntervalMs: number;
  /** Times an envelope is taken back from a dead worker before its requests fail. @defaultValue 1 */
  maxTakenBack?: number;
}

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
 * The lane's crash safety, for one worker: keeps this worker's liveness key and its place in
 * the queue's workers set fresh, and every `stalledIntervalMs` takes back the held envelopes
 * of workers whose key is gone (BullMQ's stalled-job check, for the lane), and puts back this
 * worker's own strays.
 */
export class LaneSweeper {
  /** Held entries not being served at the last sweep (see sweepOwn). */
  private strays = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private readonly keys: { lane: string; held: string; alive: string; workers: string; takenBack: string };

  /**
   * @param serving - whether this worker is serving a held entry now
   */
  constructor(
    private readonly commands: Redis,
    private readonly redisKeys: RedisKeys,
    private readonly options: LaneSweeperOptions,
    private readonly serving: (raw: string) => boolean,
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
    };
  }

  /** Announces this worker's liveness, then keeps it fresh and sweeps on timers. */
  async start(): Promise<void> {
    await this.refreshAlive();
    const renew = setInterval(
      () => void this.refreshAlive().catch((err: Error) => this.onError(err)),
      Math.max(100, Math.floor(this.options.lockDurationMs / 3)),
    );
    const sweep = setInterval(
      () => void this.sweep().catch((err: Error) => this.onError(err)),
      this.options.stalledIntervalMs,
    );
    this.timers = [renew, sweep];
  }

  /**
   * Says goodbye, once this worker holds nothing it serves. Anything still filed under it
   * (nothing, normally) is taken back by the others.
   */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.commands.del(this.keys.alive).catch(() => 0);
    if ((await this.commands.llen(this.keys.held).catch(() => 1)) === 0)
      await this.commands.srem(this.keys.workers, this.options.workerId).catch(() => 0);
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
    const strays = new Set(filed.filter((raw) => !this.serving(raw)));
    for (const raw of strays) {
      if (!this.strays.has(raw)) continue;
      await this.commands.eval(PUT_BACK, 2, this.keys.held, this.keys.lane, raw);
      strays.delete(raw);
    }
    this.strays = strays;
  }
}
