import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, Management, scoreFaq } from './support/endpoints.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * AUTH=on: endpoint keys guard scoring by endpoint (401 missing/invalid, 403 another endpoint's
 * key, 404 unknown endpoint), rotate without downtime, and never open the management API.
 */
describe('endpoint keys and the admin key', () => {
  const prefix = freshPrefix('ep-auth');
  const adminKey = 'e2e-admin-key-0123456789abcdef';
  const env = {
    REDIS_URL,
    REDIS_PREFIX: prefix,
    MODEL_REPOSITORY: REFERENCE_MODELS,
    AUTH: 'on',
    ADMIN_API_KEY: adminKey,
  };
  const processes: ServiceProcess[] = [];
  let api: ServiceProcess;
  let admin: Management;
  let keysA: { primary: string; secondary: string };
  let keysB: { primary: string; secondary: string };

  before(async () => {
    api = await startApi(env);
    processes.push(api);
    admin = new Management(api.url, adminKey);
    await admin.registerFaq('faq', '1');
    keysA = await admin.createEndpoint('faq-a');
    keysB = await admin.createEndpoint('faq-b');
    await admin.putDeployment('faq-a', 'blue', 'faq', '1');
    await admin.setTraffic('faq-a', { blue: 100 });
    processes.push(await startWorker({ ...env, DEPLOYMENT: 'faq-a/blue' }));
    await admin.waitServing('faq-a', 'blue', ['1']);
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await deletePrefix(prefix);
  });

  const score = (key: string | undefined, endpoint = 'faq-a') =>
    scoreFaq(api.url, endpoint, key, 'how to deep clone an object');

  it('scores with either key of the endpoint', async () => {
    for (const key of [keysA.primary, keysA.secondary]) {
      const res = await score(key);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers!.get('x-deployment'), 'blue');
    }
  });

  it('refuses a missing key (401), a wrong key (401), another endpoint’s key (403)', async () => {
    const missing = await score(undefined);
    const wrong = await score('not-a-key-of-anything-0123456789');
    const other = await score(keysB.primary);
    const admins = await score(adminKey);
    console.log(
      `# faq-a: no key ${missing.status}, wrong key ${wrong.status}, faq-b's key ${other.status}, admin key ${admins.status}`,
    );
    assert.equal(missing.status, 401, JSON.stringify(missing.body));
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    assert.equal(other.status, 403, JSON.stringify(other.body));
    assert.equal(admins.status, 401, 'the admin key is not an endpoint key');
    const infer = await call(api.url, 'POST', '/v2/endpoints/faq-a/infer', { inputs: [] }, keysB.primary);
    assert.equal(infer.status, 403, JSON.stringify(infer.body));
  });

  it('answers 404 for an unknown endpoint, whatever the key', async () => {
    for (const key of [undefined, keysA.primary]) {
      const res = await score(key, 'no-such-endpoint');
      assert.equal(res.status, 404, JSON.stringify(res.body));
    }
  });

  it('rotates the secondary key: old refused, primary and new secondary work', async () => {
    const regenerated = await admin.ok('POST', '/endpoints/faq-a/keys/regenerate', { key: 'secondary' });
    assert.equal(typeof regenerated.key, 'string');
    assert.notEqual(regenerated.key, keysA.secondary);
    const old = await score(keysA.secondary);
    const primary = await score(keysA.primary);
    const fresh = await score(regenerated.key as string);
    console.log(`# after rotating secondary: old ${old.status}, primary ${primary.status}, new ${fresh.status}`);
    assert.equal(old.status, 401, JSON.stringify(old.body));
    assert.equal(primary.status, 200, JSON.stringify(primary.body));
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    keysA.secondary = regenerated.key as string;
  });

  it('keeps the management API for the admin key', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/management/models'],
      ['GET', '/v1/management/models/faq'],
      ['GET', '/v1/management/endpoints'],
      ['GET', '/v1/management/endpoints/faq-a/deployments'],
      ['PUT', '/v1/management/endpoints/faq-a/traffic', { blue: 100 }],
      ['POST', '/v1/management/endpoints/faq-a/keys/regenerate', { key: 'primary' }],
    ];
    for (const [method, path, body] of routes) {
      const none = await call(api.url, method, path, body);
      const endpointKey = await call(api.url, method, path, body, keysA.primary);
      const otherKey = await call(api.url, method, path, body, keysB.secondary);
      const wrong = await call(api.url, method, path, body, 'wrong-admin-key-0123456789');
      assert.equal(none.status, 401, `${method} ${path} without a key: ${JSON.stringify(none.body)}`);
      assert.equal(endpointKey.status, 403, `${method} ${path} with an endpoint key`);
      assert.equal(otherKey.status, 403, `${method} ${path} with another endpoint key`);
      assert.equal(wrong.status, 401, `${method} ${path} with a wrong key`);
    }
    const reads = await Promise.all(routes.slice(0, 4).map(([m, p]) => call(api.url, m, p, undefined, adminKey)));
    assert.deepEqual(
      reads.map((r) => r.status),
      [200, 200, 200, 200],
    );
    const listing = reads[0]!.body as { models: { name: string; versions: string[] }[] };
    assert.deepEqual(listing.models, [{ name: 'faq', versions: ['1'] }]);
    const endpoints = reads[2]!.body as { endpoints: Record<string, unknown>[] };
    assert.deepEqual(endpoints.endpoints.map((e) => e.name).sort(), ['faq-a', 'faq-b']);
    assert.ok(
      endpoints.endpoints.every((e) => !('keys' in e)),
      'key hashes are never shown',
    );
    // The endpoint still answers its (unrotated) primary key after all the refused calls.
    assert.equal((await score(keysA.primary)).status, 200);
  });
});
