import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Fleet } from './support/fleet.js';
import { postJson, sumRequest } from './support/http.js';
import { pollJob } from './support/jobs.js';
import { FIXTURE_MODELS, freePort, type ServiceProcess } from './support/processes.js';
import { PrivateRedis } from './support/redis-server.js';
import { freshPrefix } from './support/redis.js';

/**
 * `REDIS_URL=unix:///path/to/redis.sock`: API and worker reach a Redis on the same host through
 * its Unix socket, every connection of theirs (the lane, BullMQ's, the reply channel) included,
 * with the database and password the URL's query names.
 */
describe('Redis through a Unix socket', () => {
  const fleet = new Fleet();
  let dir: string;
  let redis: PrivateRedis;
  let api: ServiceProcess;
  let socket: string;
  const PASSWORD = 'sock-s3cret';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-unix-'));
    socket = join(dir, 'redis.sock');
    redis = new PrivateRedis(await freePort(), ['--unixsocket', socket, '--unixsocketperm', '700']);
    await redis.start();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', PASSWORD);
    admin.disconnect();
    const env = {
      REDIS_URL: `unix://${socket}?db=3&password=${PASSWORD}`,
      REDIS_PREFIX: freshPrefix('unix'),
      MODEL_REPOSITORY: FIXTURE_MODELS,
    };
    [, api] = await Promise.all([fleet.worker({ ...env, MODEL: 'sum' }), fleet.api({ ...env, LOG_LEVEL: 'info' })]);
  });

  after(async () => {
    await fleet.stopAll();
    await redis.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('scores synchronous and async requests, every connection on the socket, authenticated, in the chosen database', async () => {
    const sync = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [10, 20, 30, 40]));
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    assert.deepEqual(sync.body.outputs[0].data, [11, 22, 33, 44]);
    const queued = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [2, 2, 2, 2]), {
      prefer: 'respond-async',
    });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    const { body } = await pollJob(api.url, queued.body.id);
    assert.equal(body.status, 'succeeded');
    assert.deepEqual(body.result.outputs[0].data, [3, 3, 3, 3]);

    const look = new Redis(redis.url, { password: PASSWORD });
    try {
      const me = Number(await look.client('ID'));
      const clients = String(await look.client('LIST'))
        .trim()
        .split('\n')
        .map((line) => Object.fromEntries(line.split(' ').map((kv) => kv.split('=', 2) as [string, string])))
        .filter((c) => Number(c.id) !== me);
      const names = clients.map((c) => c.name ?? '');
      assert.ok(
        names.some((n) => n.startsWith('sy-api')) && names.some((n) => n.startsWith('sy-worker')),
        names.join(),
      );
      for (const c of clients) {
        assert.equal(c.addr, `${socket}:0`, `${c.name} connected through ${c.addr}`);
        assert.equal(c.db, '3', `${c.name} uses database ${c.db}`);
      }
      // The work went through the socket's database 3, not database 0.
      assert.ok((await look.dbsize()) === 0, 'nothing written to database 0');
    } finally {
      look.disconnect();
    }
    assert.match(api.logs, /distributed mode: Redis unix:\/\/\/[^ ]*password=\*\*\*/);
    assert.ok(!api.logs.includes(PASSWORD), 'the password is not logged');
  });
});
