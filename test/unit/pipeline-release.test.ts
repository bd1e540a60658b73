import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { execAndRelease } from '../../libs/runtime/src/transport/pipeline-release.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('execAndRelease', () => {
  let redis: Redis;
  const key = `sy-test:release:${randomUUID()}`;
  before(() => void (redis = new Redis(REDIS_URL)));
  after(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  it('returns what exec() returns, and leaves the pipeline holding no command or result', async () => {
    const pipeline = redis.pipeline().set(key, 'a'.repeat(10_000)).get(key).incr(key);
    // Why the helper exists: ioredis defines `length` on each pipeline itself, as an accessor.
    // If it stops doing so, the promotion the helper works around is gone (re-measure, then drop it).
    assert.equal(typeof Object.getOwnPropertyDescriptor(pipeline, 'length')?.get, 'function');
    assert.equal(pipeline.length, 3);
    const results = await execAndRelease(pipeline);
    assert.deepEqual(results?.slice(0, 2), [
      [null, 'OK'],
      [null, 'a'.repeat(10_000)],
    ]);
    assert.match(String(results?.[2]?.[0]), /not an integer/);
    assert.equal(pipeline.length, 0);
    assert.deepEqual((pipeline as unknown as { _result: unknown[] })._result, []);
  });

  it('works for a MULTI', async () => {
    const transaction = redis.multi().set(key, '1').incr(key);
    const results = await execAndRelease(transaction);
    assert.deepEqual(results, [
      [null, 'OK'],
      [null, 2],
    ]);
    assert.equal(transaction.length, 0);
  });
});
