import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Management } from './support/endpoints.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { startApi, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/** The management API refuses inconsistent changes, naming the problem. */
describe('management API validation', () => {
  const prefix = freshPrefix('ep-mgmt');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: REFERENCE_MODELS };
  let api: ServiceProcess;
  let admin: Management;

  before(async () => {
    api = await startApi(env);
    admin = new Management(api.url);
    await admin.registerFaq('faq', '1');
    await admin.createEndpoint('faq');
    await admin.putDeployment('faq', 'blue', 'faq', '1');
    await admin.putDeployment('faq', 'green', 'faq', '1');
  });

  after(async () => {
    await api.stop();
    await deletePrefix(prefix);
  });

  async function refused(status: number, method: string, path: string, body: unknown, pattern: RegExp) {
    const res = await admin.call(method, path, body);
    console.log(`# ${method} ${path} ${JSON.stringify(body) ?? ''} → ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), pattern);
  }

  it('refuses traffic weights not summing to 100', async () => {
    await refused(400, 'PUT', '/endpoints/faq/traffic', { blue: 60, green: 30 }, /sum to 90, not 100/);
  });

  it('refuses traffic to a deployment that does not exist', async () => {
    await refused(400, 'PUT', '/endpoints/faq/traffic', { blue: 50, purple: 50 }, /no deployment 'purple'/);
  });

  it('refuses a deployment of an unregistered version', async () => {
    await refused(
      400,
      'PUT',
      '/endpoints/faq/deployments/red',
      { model: 'faq', version: '7' },
      /version 7 is not registered/,
    );
    const deployments = await admin.deployments('faq');
    assert.deepEqual(deployments.map((d) => d.name).sort(), ['blue', 'green']);
  });

  it('refuses a repository_path without a model', async () => {
    await refused(400, 'POST', '/models/faq/versions', { repository_path: 'faq/9' }, /faq\/9/);
    await refused(400, 'POST', '/models/faq/versions', { repository_path: '../etc' }, /repository_path/);
    const versions = (await admin.ok('GET', '/models/faq')).versions as { version: string }[];
    assert.deepEqual(
      versions.map((v) => v.version),
      ['1'],
    );
  });

  it('refuses deleting a deployment that takes traffic (409), then allows it once shifted', async () => {
    await admin.setTraffic('faq', { blue: 50, green: 50 });
    await refused(409, 'DELETE', '/endpoints/faq/deployments/green', undefined, /still takes traffic/);
    await admin.setTraffic('faq', { blue: 100 });
    const res = await admin.call('DELETE', '/endpoints/faq/deployments/green');
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.deepEqual(
      (await admin.deployments('faq')).map((d) => d.name),
      ['blue'],
    );
  });
});
