import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import type { CatalogEntry } from './scoring-transport.js';
import { LIVE_WINDOW_MS, type WorkerAnnouncement } from './worker-announcement.js';

/**
 * How long a model that vanished from the catalog stays known, as served by no live worker.
 * Announcements are kept for a day after their worker stops, so a model vanishes only when
 * Redis lost its data (a restart without persistence, a failover to an empty replica): its
 * workers announce it again within a heartbeat. Meanwhile its requests get 503, which clients
 * retry, not 404, which they take as final.
 */
export const VANISHED_MODEL_GRACE_MS = 60_000;

/** @see RedisCatalogReader */
export interface CatalogReaderOptions {
  /** How old a snapshot may be before it is read again. @defaultValue 1000 */
  maxAgeMs?: number;
  /** @defaultValue VANISHED_MODEL_GRACE_MS (60 s) */
  vanishedGraceMs?: number;
  /** A worker whose last heartbeat is older is not counted as live. @defaultValue LIVE_WINDOW_MS (6 s) */
  liveWindowMs?: number;
}

/**
 * The API's view of which models workers serve, read from their announcements. Refreshed at
 * most every `maxAgeMs`, so validating a request costs no Redis round trip in steady state.
 */
export class RedisCatalogReader {
  private snapshot = new Map<string, CatalogEntry>();
  private readAt = 0;
  private inflight: Promise<void> | undefined;
  /** Models missing from the last reads, and when they were last seen. */
  private readonly vanished = new Map<string, { entry: CatalogEntry; lastSeen: number }>();

  private readonly maxAgeMs: number;
  private readonly vanishedGraceMs: number;
  private readonly liveWindowMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: CatalogReaderOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.vanishedGraceMs = options.vanishedGraceMs ?? VANISHED_MODEL_GRACE_MS;
    this.liveWindowMs = options.liveWindowMs ?? LIVE_WINDOW_MS;
  }

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
      const live = workers.filter((w) => w.state === 'ready' && now - w.heartbeatAt <= this.liveWindowMs);
      // Describe the model by what a live worker serves, else by the latest word of any.
      const source = [...(live.length > 0 ? live : workers)].sort((a, b) => b.heartbeatAt - a.heartbeatAt)[0]!;
      const capacity = live.reduce((sum, w) => sum + (w.concurrency ?? 0), 0);
      next.set(name, { metadata: source.metadata, liveWorkers: live.length, capacity, workers: live });
    });
    this.keepVanished(next, now);
    this.snapshot = next;
    this.readAt = Date.now();
  }

  /** Carries models missing from `next` over as served by nobody, for the grace period. */
  private keepVanished(next: Map<string, CatalogEntry>, now: number): void {
    for (const [name, entry] of this.snapshot) {
      if (!next.has(name) && !this.vanished.has(name)) this.vanished.set(name, { entry, lastSeen: now });
    }
    for (const [name, { entry, lastSeen }] of this.vanished) {
      if (next.has(name) || now - lastSeen > this.vanishedGraceMs) this.vanished.delete(name);
      else next.set(name, { ...entry, liveWorkers: 0, capacity: 0, workers: [] });
    }
  }
}
