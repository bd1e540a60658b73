import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import {
  FORGET_AFTER_MS,
  HEARTBEAT_MS,
  type WorkerAnnouncement,
  type WorkerStatsSnapshot,
} from './worker-announcement.js';

/**
 * Tells the API instances, through Redis, that this worker serves a model and is alive: the
 * API validates requests against the announced signature and reports readiness from it.
 */
export class WorkerAnnouncer {
  private timer: NodeJS.Timeout | undefined;
  private state: WorkerAnnouncement['state'] = 'ready';

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly queue: string,
    private self: Pick<WorkerAnnouncement, 'workerId' | 'metadata' | 'device' | 'concurrency'>,
    private readonly onError: (err: Error) => void,
    /** Recent activity to carry in each heartbeat (telemetry). @defaultValue none */
    private readonly stats?: () => WorkerStatsSnapshot | undefined,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.beat().catch(this.onError), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** After a hot switch: announce what is served now, at once. */
  async update(metadata: WorkerAnnouncement['metadata']): Promise<void> {
    this.self = { ...this.self, metadata };
    await this.beat();
  }

  /** Announces `stopping` so the API stops counting this worker, then stops beating. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.state = 'stopping';
    await this.beat().catch(this.onError);
  }

  private async beat(): Promise<void> {
    const announcement: WorkerAnnouncement = {
      ...this.self,
      heartbeatAt: Date.now(),
      state: this.state,
      pid: process.pid,
      host: hostname(),
      stats: this.stats?.(),
    };
    const key = this.keys.catalog(this.queue);
    const all = await this.redis
      .multi()
      .sadd(this.keys.models, this.queue)
      .hset(key, this.self.workerId, JSON.stringify(announcement))
      .hgetall(key)
      .exec();
    // Forget workers that have been silent for a day (crashed without saying goodbye).
    const hash = (all?.[2]?.[1] ?? {}) as Record<string, string>;
    const stale = Object.entries(hash)
      .filter(([, v]) => Date.now() - (JSON.parse(v) as WorkerAnnouncement).heartbeatAt > FORGET_AFTER_MS)
      .map(([k]) => k);
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
  }
}
