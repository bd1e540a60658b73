import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_MODELS, freePort, startApi, startWorker } from './support/processes.js';
import { REDIS_URL } from './support/redis.js';

/** A misconfiguration stops the process with a message naming the file and the field. */
describe('startup refuses a misconfiguration', () => {
  let repo: string;

  before(async () => {
    repo = await mkdtemp(join(tmpdir(), 'sy-badrepo-'));
    await cp(join(FIXTURE_MODELS, 'sum'), join(repo, 'sum'), { recursive: true });
    await writeFile(
      join(repo, 'sum', 'config.yaml'),
      'max_batch_size: -3\ndynamic_batching:\n  max_queue_delay_msec: 2\n',
    );
  });

  after(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('a worker with a bad model config exits 1 naming file and fields', async () => {
    const worker = await startWorker({ REDIS_URL, MODEL_REPOSITORY: repo, MODEL: 'sum' }, { wait: false });
    assert.equal(await worker.exited, 1);
    assert.match(worker.logs, /sum\/config\.yaml/);
    assert.match(worker.logs, /max_batch_size/);
    assert.match(worker.logs, /max_queue_delay_msec/);
  });

  it('the embedded API refuses the same repository', async () => {
    const api = await startApi({ MODEL_REPOSITORY: repo }, { wait: false });
    assert.equal(await api.exited, 1);
    assert.match(api.logs, /invalid model config/);
  });

  it('a worker for an unknown model, or with a bad environment, exits 1 saying why', async () => {
    const unknown = await startWorker({ REDIS_URL, MODEL_REPOSITORY: FIXTURE_MODELS, MODEL: 'ghost' }, { wait: false });
    assert.equal(await unknown.exited, 1);
    assert.match(unknown.logs, /model 'ghost' not found/);
    const badEnv = await startWorker(
      { REDIS_URL, MODEL_REPOSITORY: FIXTURE_MODELS, MODEL: 'sum', LOCK_DURATION_MS: 'soon' },
      { wait: false },
    );
    assert.equal(await badEnv.exited, 1);
    assert.match(badEnv.logs, /LOCK_DURATION_MS/);
  });

  it('the API refuses METRICS_PORT equal to PORT, or out of range', async () => {
    const port = String(await freePort());
    const same = await startApi({ MODEL_REPOSITORY: FIXTURE_MODELS, PORT: port, METRICS_PORT: port }, { wait: false });
    assert.equal(await same.exited, 1);
    assert.match(same.logs, /METRICS_PORT must differ from PORT/);
    const bad = await startApi({ MODEL_REPOSITORY: FIXTURE_MODELS, METRICS_PORT: '70000' }, { wait: false });
    assert.equal(await bad.exited, 1);
    assert.match(bad.logs, /METRICS_PORT/);
  });
});
