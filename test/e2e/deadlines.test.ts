import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getJson, postJson, sumRequest } from './support/http.js';
import { FIXTURE_MODELS, sleep, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * Deadlines: a stalled worker (SIGSTOP) cannot make a request hang; the API answers 504 by the
 * deadline, and the worker, once resumed, drops the expired jobs without computing them.
 */
describe('deadlines', () => {
  const prefix = freshPrefix('deadline');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
  let api: ServiceProcess;
  let worker: ServiceProcess;

  before(async () => {
    worker = await startWorker({ ...env, MODEL: 'sum' });
    api = await startApi(env);
  });

  after(async () => {
    worker?.signal('SIGCONT');
    await Promise.all([api?.stop(), worker?.stop()]);
    await deletePrefix(prefix);
  });

  it('answers 504 at the deadline when no worker computes the job, and never computes it later', async () => {
    const before = (await getJson(`${worker.url}/health/ready`)).body.served;
    worker.signal('SIGSTOP');
    try {
      const started = Date.now();
      const short = postJson(`${api.url}/v2/models/sum/infer`, {
        ...(sumRequest([1, 2, 3, 4], [1, 1, 1, 1]) as object),
        parameters: { timeout_ms: 400 },
      });
      // Asking for more than the model's default (5000 ms) gets the default, not more.
      const long = postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1]), {
        'x-timeout-ms': '600000',
      });
      const res = await short;
      const shortElapsed = Date.now() - started;
      assert.equal(res.status, 504);
      assert.match(res.body.error, /deadline/);
      const capped = await long;
      const longElapsed = Date.now() - started;
      assert.equal(capped.status, 504);
      console.log(
        `# 504 after ${shortElapsed} ms (timeout 400) and ${longElapsed} ms (asked 600000, model default 5000)`,
      );
      assert.ok(shortElapsed >= 400 && longElapsed >= 5000 && longElapsed < 60_000, 'deadlines bound the wait');
    } finally {
      worker.signal('SIGCONT');
    }
    // Once resumed, the worker picks the two jobs up and drops both unrun.
    let after = before;
    for (let i = 0; i < 50 && after.expired < before.expired + 2; i++) {
      await sleep(100);
      after = (await getJson(`${worker.url}/health/ready`)).body.served;
    }
    assert.equal(after.expired, before.expired + 2, 'both expired jobs were dropped');
    assert.equal(after.succeeded, before.succeeded, 'no expired job was computed');
    const ok = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1]));
    assert.equal(ok.status, 200, 'the worker serves again');
  });
});
