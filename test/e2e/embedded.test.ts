import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { batchSizeOf, getJson, postJson, sumRequest } from './support/http.js';
import { FIXTURE_MODELS, startApi, type ServiceProcess } from './support/processes.js';

/** `npm start` with no REDIS_URL: API and every model in one process, same routes. */
describe('embedded mode (no Redis)', () => {
  let api: ServiceProcess;

  before(async () => {
    api = await startApi({ MODEL_REPOSITORY: FIXTURE_MODELS });
  });

  after(async () => {
    await api?.stop();
  });

  it('serves every model of the repository', async () => {
    for (const name of ['sum', 'echo', 'nobatch']) {
      const res = await getJson(`${api.url}/v2/models/${name}/ready`);
      assert.equal(res.status, 200, name);
    }
  });

  it('scores with batching, like the distributed topology', async () => {
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        postJson(`${api.url}/v2/models/sum/infer`, sumRequest([i, i, i, i], [1, 2, 3, 4])),
      ),
    );
    results.forEach((res, i) => {
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.outputs[0].data, [i + 1, i + 2, i + 3, i + 4]);
    });
    assert.ok(Math.max(...results.map((r) => batchSizeOf(r.headers))) > 1, 'concurrent requests batched');
  });

  it('serves a model without a batch dimension', async () => {
    const res = await postJson(`${api.url}/v2/models/nobatch/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.outputs, [{ name: 'y', datatype: 'FP32', shape: [3], data: [2, 4, 6] }]);
  });

  it('refuses an oversized batch and a shape the model does not take', async () => {
    const rows = Array.from({ length: 9 }, () => [1, 1, 1, 1]);
    const big = await postJson(`${api.url}/v2/models/sum/infer`, {
      inputs: ['a', 'b'].map((name) => ({ name, datatype: 'FP32', shape: [9, 4], data: rows })),
    });
    assert.equal(big.status, 400);
    assert.match(big.body.error, /max_batch_size 8/);
    const bad = await postJson(`${api.url}/v2/models/nobatch/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /does not match the model shape \[3\]/);
  });
});
