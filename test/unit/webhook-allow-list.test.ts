import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signWebhook, verifyWebhookSignature } from '../../libs/contracts/src/index.js';
import { WebhookAllowList, type Resolver } from '../../apps/api/src/async/webhooks/allow-list.js';

const dns: Record<string, string[]> = {
  'hooks.internal': ['10.0.0.7'],
  'evil.example': ['169.254.169.254'],
  'both.example': ['169.254.169.254', '127.0.0.1'],
};
const resolver: Resolver = async (host) => {
  const found = dns[host];
  if (!found) throw new Error(`ENOTFOUND ${host}`);
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const rejects = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (err: Error & { status?: number }) => err.status === 400 && re.test(err.message));

describe('WebhookAllowList', () => {
  const list = new WebhookAllowList('127.0.0.1:9000, hooks.internal, [::1]:9443', resolver);

  it('allows listed addresses and ports, and pins the connection to the checked address', async () => {
    assert.deepEqual(await list.check('http://127.0.0.1:9000/x').then((t) => [t.address, t.family]), ['127.0.0.1', 4]);
    assert.equal((await list.check('https://[::1]:9443/')).address, '::1');
    const named = await list.check('https://hooks.internal/cb');
    assert.equal(named.address, '10.0.0.7');
    assert.equal(named.url.hostname, 'hooks.internal');
  });

  it('allows a hostname that resolves to a listed address, pinned to that address', async () => {
    assert.equal((await list.check('http://both.example:9000/')).address, '127.0.0.1');
  });

  it('refuses unlisted hosts, ports, and names resolving elsewhere, naming the host', async () => {
    await rejects(list.check('http://169.254.169.254/'), /'169\.254\.169\.254:80' is not on WEBHOOK_ALLOWED_HOSTS/);
    await rejects(list.check('http://127.0.0.1:9001/'), /'127\.0\.0\.1:9001' is not on/);
    await rejects(list.check('http://evil.example:9000/'), /'evil\.example:9000' \(resolves to 169\.254\.169\.254\)/);
    await rejects(list.check('http://nowhere.example/'), /does not resolve/);
    await rejects(list.check('file:///etc/passwd'), /only http and https/);
    await rejects(list.check('http://user:pw@127.0.0.1:9000/'), /credentials/);
    await rejects(list.check('not a url'), /not a URL/);
  });

  it('refuses every callback when the list is empty', async () => {
    await rejects(new WebhookAllowList('', resolver).check('http://127.0.0.1:9000/'), /webhooks are disabled/);
  });
});

describe('webhook signature', () => {
  it('verifies what it signs, within the tolerance, and nothing else', () => {
    const body = '{"id":"1","status":"succeeded"}';
    const header = signWebhook('s3cret-s3cret-s3cret', body, 1_700_000_000);
    assert.ok(verifyWebhookSignature('s3cret-s3cret-s3cret', body, header, 300, 1_700_000_100));
    assert.ok(!verifyWebhookSignature('s3cret-s3cret-s3cret', body, header, 300, 1_700_000_400), 'too old');
    assert.ok(!verifyWebhookSignature('s3cret-s3cret-s3cret', body + ' ', header, 300, 1_700_000_000));
    assert.ok(!verifyWebhookSignature('other-secret-other', body, header, 300, 1_700_000_000));
    assert.ok(!verifyWebhookSignature('s3cret-s3cret-s3cret', body, 't=1,v1=zz', 300, 1));
    assert.ok(!verifyWebhookSignature('s3cret-s3cret-s3cret', body, undefined));
  });
});
