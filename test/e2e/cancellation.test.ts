import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { removeRepo, tempRepo } from './support/model-repo.js';
import { FIXTURE_MODELS, sleep, type ServiceProcess } from './support/processes.js';
import {
  eventually,
  heldJobs,
  holdHeartbeat,
  jobIds,
  queueKey,
  served,
  testRedis,
  waitingJobs,
} from './support/queues.js';
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
  function startRequest(
    model: string,
    headers: Record<string, string> = {},
  ): { abort: () => void; settled: Promise<string> } {
    const body = JSON.stringify(sumRequest([1, 2, 3, 4], [5, 6, 7, 8]));
    const req = request(`${api.url}/v2/models/${model}/infer`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
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
        // The first request is kept: a worker blocked on the direct lane takes it inside Redis
        // even while stopped. The next two wait: one in BullMQ (a priority request), one in
        // the lane (default priority while the worker has room); their clients go away.
        const kept = startRequest('queued');
        await eventually('the first job is queued', async () => (await waitingJobs(redis, prefix, 'queued')) === 1);
        const prioritized = startRequest('queued', { 'x-priority': '1' });
        const laned = startRequest('queued');
        await eventually('three jobs are queued', async () => (await waitingJobs(redis, prefix, 'queued')) === 3);
        assert.equal(await redis.zcard(queueKey(prefix, 'queued', 'prioritized')), 1, 'one job in BullMQ');
        await sleep(Math.max(0, 200 - (Date.now() - started)));
        prioritized.abort();
        laned.abort();
        console.log(
          `# clients aborted after ${Date.now() - started} ms: ${await prioritized.settled}, ${await laned.settled}`,
        );
        const abortedAt = Date.now();
        await eventually('only the kept job waits', async () => (await waitingJobs(redis, prefix, 'queued')) === 1);
        await eventually('no job hash is left', async () => (await jobIds(redis, prefix, 'queued')).length === 0);
        console.log(`# jobs removed from Redis ${Date.now() - abortedAt} ms after the disconnects`);
        queued.signal('SIGCONT');
        assert.equal(await kept.settled, 'answered 200', 'the kept request is served');
      } finally {
        queued.signal('SIGCONT');
        await release();
      }
      await sleep(500);
      const after = await served(queued);
      assert.equal(after.succeeded, before.succeeded + 1, 'the worker served the kept request');
      assert.equal(after.cancelled, before.cancelled, 'the worker never saw the removed jobs');
      assert.equal(await redis.zcard(queueKey(prefix, 'queued', 'completed')), 0, 'no job completed');
      assert.equal((await jobIds(redis, prefix, 'queued')).length, 0, 'no job left at all');
      console.log(`# sent 3, succeeded 1, cancelled by disconnect 2 (removed from the queue), lost 0`);
    }));

  it('computes nothing for a client that left before the API read its request', () =>
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
        const waiting = await waitingJobs(redis, prefix, 'queued', { includeHeld: false });
        console.log(`# after ${rounds} early disconnects: ${waiting} jobs waiting, ${left} job hashes in Redis`);
        assert.equal(waiting, 0, 'nothing was left in the queue');
        assert.equal(left, 0, 'no job was left in Redis');
      } finally {
        api.signal('SIGCONT');
        queued.signal('SIGCONT');
        await release();
      }
      await sleep(1500);
      // A request the API enqueued before it saw the disconnect was taken by the (stopped)
      // worker's lane read or removed from the queue; either way it is dropped unrun.
      const after = await served(queued);
      assert.equal(after.succeeded, before.succeeded, 'the worker computed nothing');
      assert.equal(after.failed, before.failed);
      console.log(
        `# sent ${rounds}, succeeded 0, cancelled by disconnect ${rounds} (${after.cancelled - before.cancelled} dropped by the worker unrun), computed 0, lost 0`,
      );
    }));

  it('drops a job the worker holds in its batcher when its client disconnects', () =>
    fleet.explain(async () => {
      const before = await served(held);
      const started = Date.now();
      const { abort, settled } = startRequest('held');
      // The worker has taken the job (active) and holds it in its batcher for up to 3 s.
      await eventually('the job is active', async () => (await heldJobs(redis, prefix, 'held')) === 1);
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
