import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { batchSizeOf, getJson, postJson, sumRequest, type JsonResponse } from './support/http.js';
import { FIXTURE_MODELS, startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * Two API instances and two workers on one queue: each reply must reach the caller that sent
 * the request, whichever worker computed it, and concurrent requests must batch.
 */
describe('two API instances and two workers on one queue', () => {
  const prefix = freshPrefix('multi');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
  const apis: ServiceProcess[] = [];
  const workers: ServiceProcess[] = [];

  before(async () => {
    workers.push(
      ...(await Promise.all([startWorker({ ...env, MODEL: 'sum' }), startWorker({ ...env, MODEL: 'sum' })])),
    );
    apis.push(...(await Promise.all([startApi(env), startApi(env)])));
  });

  after(async () => {
    await Promise.all([...apis, ...workers].map((p) => p.stop()));
    await deletePrefix(prefix);
  });

  it('delivers every reply to its own caller', async () => {
    // 384 requests in waves of 32. The API estimates queue depth from a sample up to ~100 ms
    // old plus what it added since, so on a loaded machine the estimate can hold up to three
    // waves; 3 × 32 stays under the default bound (4 rounds of the workers' capacity, 128
    // here) and none is refused with 429.
    const wave = 32;
    const total = 12 * wave;
    const results: { i: number; res: JsonResponse }[] = [];
    for (let first = 0; first < total; first += wave) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: wave }, async (_, k) => {
            const i = first + k;
            const api = apis[i % 2]!;
            const a = [i, i + 1, i + 2, i + 3];
            const res = await postJson(
              `${api.url}/v2/models/sum/infer`,
              sumRequest(a, [1000, 1000, 1000, 1000], `r${i}`),
            );
            return { i, res };
          }),
        )),
      );
    }
    for (const { i, res } of results) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.id, `r${i}`);
      assert.deepEqual(res.body.outputs.find((o: any) => o.name === 'sum').data, [
        i + 1000,
        i + 1001,
        i + 1002,
        i + 1003,
      ]);
    }
    const batchSizes = results.map(({ res }) => batchSizeOf(res.headers));
    console.log(
      `# ${total} requests via 2 APIs, 2 workers: all answered correctly; largest batch ${Math.max(...batchSizes)}`,
    );
    assert.ok(Math.max(...batchSizes) > 1, 'concurrent requests should have been batched together');

    const served = await Promise.all(workers.map((w) => getJson(`${w.url}/health/ready`)));
    const counts = served.map((s) => s.body.served.succeeded as number);
    console.log(`# jobs per worker: ${counts.join(', ')}`);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      total,
    );
    assert.ok(
      counts.every((c) => c > 0),
      'both workers should have taken jobs from the shared queue',
    );
  });

  it('shows both workers as live in the catalog', async () => {
    const ready = await getJson(`${apis[0]!.url}/v2/models/sum/ready`);
    assert.equal(ready.status, 200);
  });
});
