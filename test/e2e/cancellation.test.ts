import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { removeRepo, tempRepo } from './support/model-repo.js';
import { FIXTURE_MODELS, sleep, type ServiceProcess } from './support/processes.js';
import { eventually, holdHeartbeat, jobIds, queueKey, served, testRedis } from './support/queues.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * A client that goes away cancels its request: a job still queued is removed from the queue,
 * and a job a worker already holds (waiting in its batcher) is dropped unrun when the API tells
 * the model's workers on `<prefix>:_cancel:<model>`.
 */
describe('client disconnect cancels the job', () => {
  const prefix = freshPrefix('cancel');
  const redis = testRedis();
  const fleet = new Fleet();
  let repo: string;
  let api: ServiceProcess;
  let queued: ServiceProcess;
  let held: ServiceProcess;

  before(async () => {
    const sum = join(FIXTURE_MODELS, 'sum');
    repo = await tempRepo([
      { name: 'queued', from: sum, patch: { queue_policy: { default_timeout_ms: 60_000 } } },
      // A batch waits 3 s for more rows, so a lone job sits in the worker's batcher meanwhile.
      {
        name: 'held',
        from: sum,
        patch: {
          max_batch_size: 8,
          dynamic_batching: { max_queue_delay_ms: 3000 },
          queue_policy: { default_timeout_ms: 60_000 },
        },
      },
    ]);
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: repo };
    [queued, held, api] = await Promise.all([
      fleet.worker({ ...env, MODEL: 'queued' }),
      fleet.worker({ ...env, MODEL: 'held' }),
      fleet.api(env),
    ]);
  });

  after(async () => {
    await fleet.stopAll();
    redis.disconnect();
    await deletePrefix(prefix);
    await removeRepo(repo);
  });

  /** Sends an infer request on its own connection; returns a function that drops the connection. */
  function startRequest(model: string): { abort: () => void; settled: Promise<string> } {
    const body = JSON.stringify(sumRequest([1, 2, 3, 4], [5, 6, 7, 8]));
    const req = request(`${api.url}/v2/models/${model}/infer`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const settled = new Promise<string>((resolve) => {
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(`dropped (${err.code ?? err.message})`));
    });
    req.end(body);
    return { abort: () => req.destroy(), settled };
  }

  it('removes a queued job from the queue when its client disconnects', () =>
    fleet.explain(async () => {
      const before = await served(queued);
      queued.signal('SIGSTOP');
      const release = holdHeartbeat(redis, prefix, 'queued', queued.child.pid!);
      try {
        const started = Date.now();
        const { abort, settled } = startRequest('queued');
        await eventually('the job is queued', async () => (await redis.llen(queueKey(prefix, 'queued', 'wait'))) === 1);
        await sleep(Math.max(0, 200 - (Date.now() - started)));
        abort();
        console.log(`# client aborted after ${Date.now() - started} ms: ${await settled}`);
        const abortedAt = Date.now();
        await eventually('the wait list is empty', async () => {
          return (await redis.llen(queueKey(prefix, 'queued', 'wait'))) === 0;
        });
        await eventually('no job hash is left', async () => (await jobIds(redis, prefix, 'queued')).length === 0);
        console.log(`# job removed from Redis ${Date.now() - abortedAt} ms after the disconnect`);
      } finally {
        queued.signal('SIGCONT');
        await release();
      }
      // Resumed, the worker finds nothing to do.
      await sleep(1500);
      const after = await served(queued);
      assert.deepEqual(after, before, 'the worker never saw the job');
      assert.equal(await redis.zcard(queueKey(prefix, 'queued', 'completed')), 0, 'no job completed');
      assert.equal((await jobIds(redis, prefix, 'queued')).length, 0, 'no job left at all');
      console.log(`# sent 1, succeeded 0, cancelled by disconnect 1 (removed from the queue), lost 0`);
    }));

  it('enqueues nothing for a client that left before the API read its request', () =>
    fleet.explain(async () => {
      const before = await served(queued);
      const rounds = 5;
      queued.signal('SIGSTOP');
      const release = holdHeartbeat(redis, prefix, 'queued', queued.child.pid!);
      try {
        for (let i = 0; i < rounds; i++) {
          // The API is stopped: the request and then the disconnect wait in its socket, so when
          // it resumes, the client is gone before (or while) the handler runs.
          api.signal('SIGSTOP');
          let settled: Promise<string>;
          try {
            const started = startRequest('queued');
            settled = started.settled;
            await sleep(300);
            started.abort();
            await sleep(100);
          } finally {
            api.signal('SIGCONT');
          }
          console.log(`# round ${i + 1}: client ${await settled}`);
          await eventually('the API serves again', async () => (await fetch(`${api.url}/v2/health/live`)).ok);
        }
        await sleep(1000);
        const left = (await jobIds(redis, prefix, 'queued')).length;
        const waiting = await redis.llen(queueKey(prefix, 'queued', 'wait'));
        console.log(`# after ${rounds} early disconnects: ${waiting} jobs waiting, ${left} job hashes in Redis`);
        assert.equal(waiting, 0, 'nothing was left in the queue');
        assert.equal(left, 0, 'no job was left in Redis');
      } finally {
        api.signal('SIGCONT');
        queued.signal('SIGCONT');
        await release();
      }
      await sleep(1500);
      assert.deepEqual(await served(queued), before, 'the worker computed nothing');
      console.log(`# sent ${rounds}, succeeded 0, cancelled by disconnect ${rounds}, computed 0, lost 0`);
    }));

  it('drops a job the worker holds in its batcher when its client disconnects', () =>
    fleet.explain(async () => {
      const before = await served(held);
      const started = Date.now();
      const { abort, settled } = startRequest('held');
      // The worker has taken the job (active) and holds it in its batcher for up to 3 s.
      await eventually('the job is active', async () => (await redis.llen(queueKey(prefix, 'held', 'active'))) === 1);
      await sleep(Math.max(0, 500 - (Date.now() - started)));
      const cancels = testRedis();
      const published: string[] = [];
      cancels.on('message', (_ch: string, id: string) => published.push(id));
      await cancels.subscribe(`${prefix}:_cancel:held`);
      try {
        abort();
        console.log(`# client aborted after ${Date.now() - started} ms: ${await settled}`);
        await eventually(
          'the worker dropped the job',
          async () => (await served(held)).cancelled === before.cancelled + 1,
        );
        const after = await served(held);
        console.log(
          `# worker: cancelled ${after.cancelled - before.cancelled}, succeeded ${after.succeeded - before.succeeded}; ` +
            `cancel messages seen on ${prefix}:_cancel:held: ${published.length}`,
        );
        assert.equal(after.succeeded, before.succeeded, 'the job was not computed');
        assert.equal(after.failed, before.failed);
        assert.equal(published.length, 1, 'the API published one cancel message');
      } finally {
        cancels.disconnect();
      }
      // The worker is fine afterwards: a new request is served (after the 3 s batch delay).
      const res = await fetch(`${api.url}/v2/models/held/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sumRequest([1, 2, 3, 4], [1, 1, 1, 1])),
      });
      assert.equal(res.status, 200);
      console.log(`# sent 2, succeeded 1, cancelled by disconnect 1 (dropped by the worker), lost 0`);
    }));
});
