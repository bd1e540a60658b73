import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { sumRequest } from './support/http.js';
import { Fleet } from './support/fleet.js';
import { fmt, send, type Outcome } from './support/load.js';
import { FIXTURE_MODELS, freePort, sleep } from './support/processes.js';
import { eventually } from './support/queues.js';
import { PrivateRedis } from './support/redis-server.js';
import { freshPrefix } from './support/redis.js';

/**
 * Redis outage: with Redis gone, requests get a quick 503 (no hang) and no process crashes;
 * once Redis is back (empty: a restart without persistence), API and worker reconnect and the
 * worker announces itself again, and requests succeed without restarting anything.
 */
describe('Redis outage', () => {
  const fleet = new Fleet();
  const redises: PrivateRedis[] = [];

  after(async () => {
    await fleet.stopAll();
    await Promise.all(redises.map((r) => r.kill()));
  });

  it('answers 503 quickly while Redis is down and recovers when it is back', () =>
    fleet.explain(async () => {
      const redis = new PrivateRedis(await freePort());
      redises.push(redis);
      await redis.start();
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: freshPrefix('outage'), MODEL_REPOSITORY: FIXTURE_MODELS };
      const [worker, api] = await Promise.all([fleet.worker({ ...env, MODEL: 'sum' }), fleet.api(env)]);
      const url = `${api.url}/v2/models/sum/infer`;
      const body = sumRequest([1, 2, 3, 4], [1, 1, 1, 1]);
      const all: Outcome[] = [];
      const ok = await send(url, body);
      all.push(ok);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));

      await redis.kill();
      const killedAt = Date.now();
      const during: Outcome[] = [];
      for (let i = 0; i < 5; i++) during.push(await send(url, body, { timeoutMs: 30_000 }));
      all.push(...during);
      console.log(
        `# Redis down: ${during.map((o) => `${o.status} in ${fmt(o.ms)} ms`).join(', ')} (${JSON.stringify(during[0]?.body)})`,
      );
      for (const o of during) {
        assert.equal(o.status, 503, JSON.stringify(o.body));
        assert.equal(typeof o.body.error, 'string');
        assert.ok(o.ms < 4500, `503 came back in ${fmt(o.ms)} ms, before the 5 s deadline (no hang)`);
      }
      const ready = await send(`${api.url}/v2/health/ready`, undefined, { method: 'GET' });
      console.log(`# API readiness while Redis is down: ${ready.status} ${JSON.stringify(ready.body)}`);
      assert.equal(ready.status, 503);
      const workerReady = await send(`${worker.url}/health/ready`, undefined, { method: 'GET' });
      console.log(`# worker readiness while Redis is down: ${workerReady.status}`);
      assert.equal(workerReady.status, 503);
      // Nothing crashes while Redis stays away for a while.
      await sleep(Math.max(0, 3000 - (Date.now() - killedAt)));
      assert.equal(api.child.exitCode, null, 'the API is still running');
      assert.equal(worker.child.exitCode, null, 'the worker is still running');

      await redis.start();
      const backAt = Date.now();
      let attempts = 0;
      let last: Outcome | undefined;
      await eventually(
        'a request succeeds after Redis is back',
        async () => {
          attempts++;
          last = await send(url, body, { timeoutMs: 10_000 });
          all.push(last);
          return last.status === 200;
        },
        20_000,
      );
      console.log(
        `# Redis back: first success ${Date.now() - backAt} ms after restart, on attempt ${attempts}` +
          ` (outcomes meanwhile: ${[...new Set(all.slice(6, -1).map((o) => o.status))].join(', ') || 'none'})`,
      );
      assert.deepEqual(last!.body.outputs.find((t: any) => t.name === 'sum').data, [2, 3, 4, 5]);
      assert.equal(api.child.exitCode, null);
      assert.equal(worker.child.exitCode, null);
      const counts: Record<number, number> = {};
      for (const o of all) counts[o.status] = (counts[o.status] ?? 0) + 1;
      console.log(
        `# sent ${all.length}, succeeded ${counts[200] ?? 0}, refused ${JSON.stringify(counts)}, ` +
          `lost ${all.filter((o) => o.status === 0).length}`,
      );
      assert.equal(all.filter((o) => o.status === 0).length, 0, 'lost 0: every request got an answer');
      // Until the worker has announced itself to the empty Redis, the model is unavailable
      // (503, which clients retry), never unknown (404, which they take as final).
      assert.equal(counts[404] ?? 0, 0, `no 404 while the catalog refills: ${JSON.stringify(counts)}`);
    }));

  it('warns when Redis may evict keys (maxmemory-policy other than noeviction)', () =>
    fleet.explain(async () => {
      const redis = new PrivateRedis(await freePort(), ['--maxmemory-policy', 'allkeys-lru']);
      redises.push(redis);
      await redis.start();
      const env = { REDIS_URL: redis.url, REDIS_PREFIX: freshPrefix('evict'), MODEL_REPOSITORY: FIXTURE_MODELS };
      const [worker, api] = await Promise.all([fleet.worker({ ...env, MODEL: 'sum' }), fleet.api(env)]);
      // The warning is logged at start, before ready; give the log a moment to arrive.
      await eventually(
        'both warned',
        async () => /maxmemory-policy/.test(worker.logs) && /maxmemory-policy/.test(api.logs),
        10_000,
      );
      const line = worker.logs.split('\n').find((l) => /maxmemory-policy/.test(l)) ?? '';
      console.log(`# worker warned: ${stripVTControlCharacters(line).slice(0, 200)}`);
      assert.match(worker.logs, /allkeys-lru/);
      assert.match(api.logs, /allkeys-lru/);
      const ok = await send(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1]));
      assert.equal(ok.status, 200, 'a warning, not a refusal: scoring works');
    }));
});
