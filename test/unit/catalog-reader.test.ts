import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { ModelMetadata } from '../../libs/contracts/src/index.js';
import { RedisCatalogReader } from '../../libs/runtime/src/transport/redis-catalog-reader.js';
import { RedisKeys } from '../../libs/runtime/src/transport/redis-keys.js';
import type { WorkerAnnouncement } from '../../libs/runtime/src/transport/worker-announcement.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const metadata: ModelMetadata = {
  name: 'sum',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [],
  outputs: [],
  maxBatchSize: 8,
  defaultTimeoutMs: 10_000,
  maxQueueSize: 0,
  handler: 'none',
};

/**
 * The API's catalog against real Redis: what workers announce, and a model whose
 * announcements vanish (Redis restarted empty) kept as served by nobody for the grace period.
 */
describe('RedisCatalogReader (real Redis)', () => {
  const keys = new RedisKeys(`unit-catalog-${process.pid}-${Date.now()}`);
  let redis: Redis;

  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    const stale = await redis.keys(`${keys.prefix}:*`);
    if (stale.length > 0) await redis.del(...stale);
    redis.disconnect();
  });

  const announce = async (workerId: string, silentForMs = 0): Promise<void> => {
    const announcement: WorkerAnnouncement = {
      workerId,
      metadata,
      heartbeatAt: Date.now() - silentForMs,
      state: 'ready',
      device: 'cpu',
      concurrency: 4,
      pid: 1,
      host: 'test',
    };
    await redis
      .multi()
      .sadd(keys.models, 'sum')
      .hset(keys.catalog('sum'), workerId, JSON.stringify(announcement))
      .exec();
  };
  const forgetAll = async (): Promise<void> => {
    await redis.del(keys.models, keys.catalog('sum'));
  };

  it('keeps a vanished model as served by nobody for the grace period, then forgets it', async () => {
    // maxAgeMs 0: every get() after a quiet spell reads Redis afresh.
    const reader = new RedisCatalogReader(redis, keys, { maxAgeMs: 0, vanishedGraceMs: 400 });
    await announce('w1');
    let entry = (await reader.get()).get('sum');
    assert.equal(entry?.liveWorkers, 1);
    assert.equal(reader.capacity('sum'), 4);

    await forgetAll();
    await sleep(5);
    entry = (await reader.get()).get('sum');
    assert.ok(entry, 'still known right after vanishing');
    assert.equal(entry.liveWorkers, 0, 'but served by nobody');
    assert.equal(entry.metadata.name, 'sum');
    assert.equal(reader.capacity('sum'), 0, 'nothing goes to the direct lane');

    // The worker announces again: live at once.
    await announce('w1');
    await sleep(5);
    assert.equal((await reader.get()).get('sum')?.liveWorkers, 1);

    // Gone for longer than the grace period: unknown.
    await forgetAll();
    await sleep(5);
    assert.equal((await reader.get()).get('sum')?.liveWorkers, 0);
    await sleep(450);
    assert.equal((await reader.get()).has('sum'), false);
  });

  it('does not invent models it never saw', async () => {
    const reader = new RedisCatalogReader(redis, keys, { maxAgeMs: 0, vanishedGraceMs: 400 });
    await forgetAll();
    assert.equal((await reader.get()).size, 0);
  });

  it('counts a worker as live within the liveness window only (WORKER_LIVENESS_MS)', async () => {
    await forgetAll();
    await announce('w1', 10_000); // last heartbeat 10 s ago
    const byDefault = new RedisCatalogReader(redis, keys, { maxAgeMs: 0 });
    assert.equal((await byDefault.get()).get('sum')?.liveWorkers, 0, 'silent past the default 6 s: not live');
    const patient = new RedisCatalogReader(redis, keys, { maxAgeMs: 0, liveWindowMs: 30_000 });
    assert.equal((await patient.get()).get('sum')?.liveWorkers, 1, 'within a 30 s window: live');
    assert.equal(patient.capacity('sum'), 4);
  });
});
