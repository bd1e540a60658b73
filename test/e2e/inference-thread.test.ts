import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { intraOpThreads } from '../../libs/runtime/src/session/loaded-model.js';
import { getJson, postJson, scoreSumsConcurrently, sumRequest } from './support/http.js';
import { startPatchedSum, type PatchedSum } from './support/patched-sum.js';
import type { ServiceProcess } from './support/processes.js';

/**
 * A model with `instance.inference_thread: true`: a real worker runs its batches on a thread of
 * its own, answers through the API like any other, and still shuts down cleanly on SIGTERM.
 */
describe('inference on a thread of its own', () => {
  let system: PatchedSum;
  let api: ServiceProcess;
  let worker: ServiceProcess;

  before(async () => {
    system = await startPatchedSum('thread', { instance: { inference_thread: true } });
    ({ api, worker } = system);
  });

  after(async () => {
    await system?.stop();
  });

  it('says so when it loads the model', () => {
    const intraOp = intraOpThreads(0);
    assert.ok(
      worker.logs.includes(
        `'sum' versions [2, 1] loaded and warm on cpu (inference on its own thread, ${intraOp} intra-op thread${intraOp === 1 ? '' : 's'} each)`,
      ),
      worker.logs,
    );
  });

  it('serves concurrent requests in batches, each with its own rows', async () => {
    const largest = Math.max(...(await scoreSumsConcurrently(api.url, 40, 't')));
    assert.ok(largest > 1, `requests were batched (largest batch ${largest})`);
    assert.equal((await getJson(`${worker.url}/health/live`)).status, 200);
  });

  it('refuses a bad request with 400 and keeps serving', async () => {
    const bad = await postJson(`${api.url}/v2/models/sum/infer`, {
      inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    const ok = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]));
    assert.equal(ok.status, 200);
  });

  it('stops gracefully on SIGTERM: the thread is released and the process exits 0', async () => {
    assert.equal(await worker.stop(15_000), 0, worker.logs.slice(-2000));
  });
});
