import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { scoreFaq } from './support/endpoints.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { startApi, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

const CLI = resolve(process.cwd(), 'dist/apps/cli/src/main.js');
const run = promisify(execFile);

/** The compiled `switchyard` CLI against a real API with AUTH on: create, deploy, traffic, keys. */
describe('switchyard CLI', () => {
  const prefix = freshPrefix('cli');
  const adminKey = 'e2e-admin-key-0123456789abcdef';
  let api: ServiceProcess;

  before(async () => {
    api = await startApi({
      REDIS_URL,
      REDIS_PREFIX: prefix,
      MODEL_REPOSITORY: REFERENCE_MODELS,
      AUTH: 'on',
      ADMIN_API_KEY: adminKey,
    });
  });

  after(async () => {
    await api?.stop();
    await deletePrefix(prefix);
  });

  /** Runs the CLI; resolves with its exit code and output (never rejects). */
  async function cli(args: string[], key = adminKey) {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', SWITCHYARD_URL: api.url };
    if (key) env.SWITCHYARD_ADMIN_KEY = key;
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('registers a model and lists it', async () => {
    const reg = await cli(['model', 'register', 'faq', '--path', 'faq/1', '--version', '1']);
    assert.equal(reg.code, 0, reg.stderr);
    assert.match(reg.stdout, /registered faq version 1/);
    const list = await cli(['model', 'list']);
    assert.match(list.stdout, /MODEL\s+VERSIONS\nfaq\s+1/);
    const json = JSON.parse((await cli(['--json', 'model', 'show', 'faq'])).stdout);
    assert.equal(json.versions[0].version, '1');
  });

  let keys: { primary: string; secondary: string };

  it('creates an endpoint and prints its keys once', async () => {
    const res = await cli(['--json', 'endpoint', 'create', 'faq']);
    assert.equal(res.code, 0, res.stderr);
    keys = JSON.parse(res.stdout).keys;
    assert.match(keys.primary, /^sy_/);
    const human = await cli(['endpoint', 'create', 'faq-two']);
    assert.match(human.stdout, /primary key: +sy_\S+\nsecondary key: sy_\S+/);
  });

  it('deploys two deployments, splits traffic, mirrors, shows the table', async () => {
    for (const d of ['blue', 'green']) {
      const res = await cli([
        'endpoint',
        'deploy',
        'faq',
        d,
        '--model',
        'faq',
        '--version',
        '1',
        '--max-queue-delay-ms',
        '2',
        '--instance-count',
        '2',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, new RegExp(`deployed faq version 1 as faq/${d}`));
    }
    const traffic = await cli(['endpoint', 'traffic', 'faq', 'blue=90', 'green=10']);
    assert.equal(traffic.stdout.trim(), 'traffic for faq: blue=90 green=10');
    const mirror = await cli(['endpoint', 'mirror', 'faq', 'green=10']);
    assert.equal(mirror.stdout.trim(), 'mirror for faq: green=10');
    const table = await cli(['deployments', 'faq']);
    assert.match(table.stdout, /^DEPLOYMENT\s+MODEL\s+VERSION\s+WORKERS\s+SERVING\s+QUEUE DEPTH\s+READY/);
    assert.match(table.stdout, /\nblue\s+faq\s+1\s+0\s+-\s+0\s+no/);
    const show = JSON.parse((await cli(['--json', 'endpoint', 'show', 'faq'])).stdout);
    assert.deepEqual(show.traffic, { blue: 90, green: 10 });
    assert.deepEqual(show.mirror, { deployment: 'green', percent: 10 });
    assert.deepEqual(show.deployment_status.find((d: any) => d.name === 'blue').settings, {
      max_queue_delay_ms: 2,
      instance_count: 2,
    });
    const off = await cli(['endpoint', 'mirror', 'faq', 'green=0']);
    assert.equal(off.stdout.trim(), 'mirror for faq: (off)');
    const list = await cli(['endpoint', 'list']);
    assert.match(list.stdout, /\nfaq\s+blue, green\s+blue=90 green=10/);
  });

  it('prints the API error and exits 1', async () => {
    const bad = await cli(['endpoint', 'traffic', 'faq', 'blue=50', 'green=10']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: 400: .*100/);
    const missing = await cli(['endpoint', 'show', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404: endpoint 'nope' not found/);
    const noKey = await cli(['model', 'list'], '');
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /401: missing credentials/);
  });

  it('regenerates the secondary key; the primary keeps working', async () => {
    const res = await cli(['--json', 'keys', 'regenerate', 'faq', '--secondary']);
    assert.equal(res.code, 0, res.stderr);
    const { key, which } = JSON.parse(res.stdout);
    assert.equal(which, 'secondary');
    assert.notEqual(key, keys.secondary);
    // No workers here: a known key gets past the guard (503/504 or 200), an old one does not (401).
    const old = await scoreFaq(api.url, 'faq', keys.secondary, 'hello');
    assert.equal(old.status, 401);
    const primary = await scoreFaq(api.url, 'faq', keys.primary, 'hello', { 'x-timeout-ms': '300' });
    assert.notEqual(primary.status, 401);
    const fresh = await scoreFaq(api.url, 'faq', key, 'hello', { 'x-timeout-ms': '300' });
    assert.notEqual(fresh.status, 401);
  });

  it('undeploys and deletes', async () => {
    await cli(['endpoint', 'traffic', 'faq', 'blue=100']);
    const undeploy = await cli(['endpoint', 'undeploy', 'faq', 'green']);
    assert.equal(undeploy.code, 0, undeploy.stderr);
    const del = await cli(['endpoint', 'delete', 'faq-two']);
    assert.equal(del.stdout.trim(), 'deleted endpoint faq-two');
  });
});
