import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { intraOpThreads } from '../../libs/runtime/src/session/loaded-model.js';
import { getJson, scoreSumsConcurrently } from './support/http.js';
import { startPatchedSum, type PatchedSum } from './support/patched-sum.js';
import type { ServiceProcess } from './support/processes.js';

/**
 * A model with `instance.count: 2`: a real worker loads two sessions per version, each on a
 * thread of its own, runs batches on both, answers every request with its own rows, and shuts
 * down cleanly.
 */
describe('several instances per worker (instance.count)', () => {
  let system: PatchedSum;
  let api: ServiceProcess;
  let worker: ServiceProcess;

  before(async () => {
    system = await startPatchedSum('instances', {
      max_batch_size: 4,
      dynamic_batching: { max_queue_delay_ms: 5 },
      instance: { count: 2 },
    });
    ({ api, worker } = system);
  });

  after(async () => {
    await system?.stop();
  });

  it('says so when it loads the model, and holds a batch for each instance and one more', () => {
    // intra_op_threads 0: this machine's cores shared between the two sessions.
    const intraOp = intraOpThreads(0, 2);
    assert.ok(
      worker.logs.includes(
        `'sum' versions [2, 1] loaded and warm on cpu (2 instances, each on its own thread, ${intraOp} intra-op thread${intraOp === 1 ? '' : 's'} each)`,
      ),
      worker.logs,
    );
    assert.match(worker.logs, /concurrency 12\)/);
  });

  it('serves concurrent requests in batches on both instances, each with its own rows', async () => {
    const sizes = await scoreSumsConcurrently(api.url, 60, 'n');
    assert.ok(Math.max(...sizes) > 1, `requests were batched (largest batch ${Math.max(...sizes)})`);
    assert.ok(Math.max(...sizes) <= 4, 'no batch above max_batch_size');
    assert.equal((await getJson(`${worker.url}/health/live`)).status, 200);
  });

  it('stops gracefully on SIGTERM: both threads are released and the process exits 0', async () => {
    assert.equal(await worker.stop(15_000), 0, worker.logs.slice(-2000));
  });
});
