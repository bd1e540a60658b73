import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature } from '../../libs/contracts/src/index.js';
import { getJson, postJson, sumRequest } from './support/http.js';
import { pollJob } from './support/jobs.js';
import { FIXTURE_MODELS, startApi, type ServiceProcess } from './support/processes.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const SECRET = 'embedded-webhook-secret-42';

/** Embedded mode (no Redis): the same async routes, results in memory, webhooks sent in-process. */
describe('async jobs in embedded mode', () => {
  const receiver = new WebhookReceiver();
  let api: ServiceProcess;

  before(async () => {
    await receiver.start();
    api = await startApi({
      MODEL_REPOSITORY: FIXTURE_MODELS,
      EMBEDDED_MODELS: 'sum',
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_BASE_MS: '100',
    });
  });

  after(async () => {
    await api?.stop();
    await receiver.stop();
  });

  it('accepts with 202 and serves the result by id', async () => {
    const res = await postJson(
      `${api.url}/v2/models/sum/versions/1/infer`,
      sumRequest([1, 2, 3, 4], [4, 3, 2, 1], 'e-1'),
      {
        prefer: 'respond-async',
      },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.headers.get('location'), `/v1/jobs/${res.body.id}`);
    const { body } = await pollJob(api.url, res.body.id);
    assert.equal(body.status, 'succeeded');
    assert.equal(body.version, '1');
    assert.equal(body.result.id, 'e-1');
    assert.deepEqual(body.result.outputs.find((o: any) => o.name === 'sum').data, [5, 5, 5, 5]);
  });

  it('retries a failed webhook delivery and signs it', async () => {
    receiver.plan('/e', [503, 500]);
    const body = {
      ...(sumRequest([1, 1, 1, 1], [2, 2, 2, 2]) as object),
      parameters: { callback_url: receiver.url('/e') },
    };
    const res = await postJson(`${api.url}/v2/models/sum/infer?async=true`, body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const deliveries = await receiver.waitFor('/e', 3);
    assert.deepEqual(
      deliveries.map((d) => d.answered),
      [503, 500, 200],
    );
    const last = deliveries[2]!;
    assert.equal(last.body.status, 'succeeded');
    assert.equal(last.headers['x-switchyard-delivery'], `${res.body.id}/3`);
    assert.ok(verifyWebhookSignature(SECRET, last.raw, last.headers['x-switchyard-signature'] as string));
  });

  it('refuses a callback host that is not allowed', async () => {
    const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]), {
      prefer: 'respond-async',
      'callback-url': 'http://169.254.169.254/',
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /169\.254\.169\.254/);
    assert.equal((await getJson(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status, 404);
  });
});
