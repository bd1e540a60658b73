import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Management, scoreFaq } from './support/endpoints.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/** ENDPOINTS_FILE: applied at start, idempotent, keys from the environment, invalid files refused. */
describe('endpoints file (ENDPOINTS_FILE)', () => {
  const prefix = freshPrefix('ep-file');
  const adminKey = 'e2e-admin-key-0123456789abcdef';
  const primary = 'faq-primary-key-from-a-secret-0001';
  const secondary = 'faq-secondary-key-from-a-secret-0002';
  const example = resolve(process.cwd(), 'examples/endpoints.yaml');
  const env = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    MODEL_REPOSITORY: REFERENCE_MODELS,
    AUTH: 'on',
    ADMIN_API_KEY: adminKey,
    ENDPOINTS_FILE: example,
    FAQ_PRIMARY_KEY: primary,
    FAQ_SECONDARY_KEY: secondary,
  };
  const processes: ServiceProcess[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sy-ep-file-'));
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deletePrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });

  let first: any;

  it('creates the model version, endpoint, deployment and traffic at start', async () => {
    const api = await startApi(env);
    processes.push(api);
    const admin = new Management(api.url, adminKey);
    first = await admin.ok('GET', '/endpoints/faq');
    assert.deepEqual(first.traffic, { blue: 100 });
    assert.equal(first.deployments.blue.model, 'faq');
    assert.equal(first.deployments.blue.version, '1');
    assert.deepEqual(first.deployments.blue.settings, { max_queue_delay_ms: 2 });
    const model = await admin.ok('GET', '/models/faq');
    assert.deepEqual(
      model.versions.map((v: any) => v.version),
      ['1'],
    );
    await api.stop();
  });

  it('a second start with the same file changes nothing', async () => {
    const api = await startApi(env);
    processes.push(api);
    const admin = new Management(api.url, adminKey);
    const again = await admin.ok('GET', '/endpoints/faq');
    assert.equal(again.revision, first.revision);
    assert.equal(again.deployments.blue.revision, first.deployments.blue.revision);
    assert.equal(again.updated_at, first.updated_at);
    const model = await admin.ok('GET', '/models/faq');
    assert.equal(model.versions.length, 1);
  });

  it('scores through the endpoint with the keys from the environment', async () => {
    const api = processes.at(-1)!;
    const admin = new Management(api.url, adminKey);
    processes.push(await startWorker({ ...env, DEPLOYMENT: 'faq/blue' }));
    await admin.waitServing('faq', 'blue', ['1']);
    for (const key of [primary, secondary]) {
      const res = await scoreFaq(api.url, 'faq', key, 'how to deep clone an object');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers!.get('x-deployment'), 'blue');
    }
    assert.equal((await scoreFaq(api.url, 'faq', 'not-the-key-0123456789abcdef', 'hi')).status, 401);
  });

  it('refuses to start with an invalid file, naming the file and the field', async () => {
    const bad = join(dir, 'bad.yaml');
    const text = (await readFile(example, 'utf8')).replace('max_queue_delay_ms: 2', 'max_queue_delay_ms: -5');
    await writeFile(bad, text);
    const api = await startApi({ ...env, ENDPOINTS_FILE: bad }, { wait: false });
    processes.push(api);
    assert.equal(await api.exited, 1);
    assert.match(api.logs, /bad\.yaml/);
    assert.match(api.logs, /endpoints\[0\]\.deployments\[0\]\.settings\.max_queue_delay_ms/);

    const noKey = await startApi({ ...env, FAQ_PRIMARY_KEY: '' }, { wait: false });
    processes.push(noKey);
    assert.equal(await noKey.exited, 1);
    assert.match(noKey.logs, /endpoints\[0\]\.keys\.primary_env: environment variable FAQ_PRIMARY_KEY is not set/);
  });
});
