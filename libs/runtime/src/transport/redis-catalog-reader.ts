import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import type { CatalogEntry } from './scoring-transport.js';
import { LIVE_WINDOW_MS, type WorkerAnnouncement } from './worker-announcement.js';

/**
 * The API's view of which models workers serve, read from their announcements. Refreshed at
 * most every `maxAgeMs`, so validating a request costs no Redis round trip in steady state.
 */
export class RedisCatalogReader {
  private snapshot = new Map<string, CatalogEntry>();
  private readAt = 0;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly maxAgeMs = 1000,
  ) {}

  async get(): Promise<Map<string, CatalogEntry>> {
    if (Date.now() - this.readAt > this.maxAgeMs) {
      this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
      // A failed refresh keeps serving the last snapshot: Redis trouble shows on enqueue.
      const refreshed = this.inflight.catch(() => undefined);
      // Under steady traffic requests answer from the snapshot while it is refreshed, so none
      // pays the round trips; after a quiet spell (or at first) the read waits for fresh data.
      if (Date.now() - this.readAt > 3 * this.maxAgeMs) await refreshed;
    }
    return this.snapshot;
  }

  /**
   * Jobs the live workers of a queue hold at once, from the last snapshot (0 when unknown):
   * no round trip, for decisions on the request path.
   */
  capacity(queue: string): number {
    return this.snapshot.get(queue)?.capacity ?? 0;
  }

  private async refresh(): Promise<void> {
    const names = await this.redis.smembers(this.keys.models);
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.hgetall(this.keys.catalog(name));
    const results = (await pipeline.exec()) ?? [];
    const next = new Map<string, CatalogEntry>();
    const now = Date.now();
    names.forEach((name, i) => {
      const [err, hash] = results[i] ?? [];
      if (err || !hash) return;
      const workers = Object.values(hash as Record<string, string>).map((v) => JSON.parse(v) as WorkerAnnouncement);
      if (workers.length === 0) return;
      const live = workers.filter((w) => w.state === 'ready' && now - w.heartbeatAt <= LIVE_WINDOW_MS);
      // Describe the model by what a live worker serves, else by the latest word of any.
      const source = [...(live.length > 0 ? live : workers)].sort((a, b) => b.heartbeatAt - a.heartbeatAt)[0]!;
      const capacity = live.reduce((sum, w) => sum + (w.concurrency ?? 0), 0);
      next.set(name, { metadata: source.metadata, liveWorkers: live.length, capacity, workers: live });
    });
    this.snapshot = next;
    this.readAt = Date.now();
  }
}
