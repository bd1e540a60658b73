import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyWebhookSignature } from '../../libs/contracts/src/index.js';
import { Fleet } from './support/fleet.js';
import { getJson, postJson, sumRequest } from './support/http.js';
import { pollJob } from './support/jobs.js';
import { FIXTURE_MODELS, sleep, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const SECRET = 'test-webhook-secret-0123456789';
const ASYNC = { prefer: 'respond-async' };

/** Async jobs and webhooks in the distributed topology: real Redis, API and worker processes. */
describe('async jobs over Redis', () => {
  const prefix = freshPrefix('async');
  const fleet = new Fleet();
  const receiver = new WebhookReceiver();
  let api: ServiceProcess;
  let worker: ServiceProcess;

  before(async () => {
    await receiver.start();
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: FIXTURE_MODELS };
    worker = await fleet.worker({ ...env, MODEL: 'sum' });
    api = await fleet.api({
      ...env,
      WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}, 127.0.0.2:${receiver.port + 1}`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_BASE_MS: '200',
      WEBHOOK_MAX_ATTEMPTS: '3',
    });
  });

  after(async () => {
    await fleet.stopAll();
    await receiver.stop();
    await deletePrefix(prefix);
  });

  it('answers 202 with a Location, then serves the sync body once succeeded', async () => {
    const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1], 'a-1'), ASYNC);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { id } = res.body;
    assert.deepEqual(res.body, { id, status: 'queued', location: `/v1/jobs/${id}` });
    assert.equal(res.headers.get('location'), `/v1/jobs/${id}`);
    const { body } = await pollJob(api.url, id);
    assert.equal(body.status, 'succeeded');
    assert.equal(body.model, 'sum');
    assert.equal(body.version, '2');
    assert.ok(Date.parse(body.finished_at) >= Date.parse(body.created_at));
    const sync = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 2, 3, 4], [1, 1, 1, 1], 'a-1'));
    assert.deepEqual(body.result, sync.body, 'the same body the sync route answers');
  });

  it('goes queued → succeeded while the worker is paused and resumed; ?async=true works too', async () => {
    worker.signal('SIGSTOP');
    try {
      const res = await postJson(`${api.url}/v2/models/sum/infer?async=true`, sumRequest([5, 5, 5, 5], [1, 2, 3, 4]));
      assert.equal(res.status, 202, JSON.stringify(res.body));
      await sleep(300);
      // 'running' when the worker had taken the job (BullMQ: active) just before it stopped
      assert.match((await getJson(`${api.url}/v1/jobs/${res.body.id}`)).body.status, /^(queued|running)$/);
      worker.signal('SIGCONT');
      const { body, seen } = await pollJob(api.url, res.body.id);
      assert.match(seen[0]!, /^(queued|running)$/);
      assert.equal(body.status, 'succeeded');
      assert.deepEqual(body.result.outputs.find((o: any) => o.name === 'sum').data, [6, 7, 8, 9]);
    } finally {
      worker.signal('SIGCONT');
    }
  });

  it('expires a job not computed by its own deadline, and tells its webhook', async () => {
    worker.signal('SIGSTOP');
    let id: string;
    try {
      const body = {
        ...(sumRequest([1, 1, 1, 1], [1, 1, 1, 1]) as object),
        parameters: { timeout_ms: 300, callback_url: receiver.url('/expired') },
      };
      const res = await postJson(`${api.url}/v2/models/sum/infer`, body, ASYNC);
      assert.equal(res.status, 202, JSON.stringify(res.body));
      id = res.body.id;
      const [delivery] = await receiver.waitFor('/expired', 1);
      assert.equal(delivery!.body.status, 'expired');
      assert.equal(delivery!.body.id, id);
    } finally {
      worker.signal('SIGCONT');
    }
    const { body } = await pollJob(api.url, id);
    assert.equal(body.status, 'expired');
    assert.match(body.error, /deadline/);
    await sleep(500); // the resumed worker drops the job; the outcome stays 'expired'
    assert.equal((await getJson(`${api.url}/v1/jobs/${id}`)).body.status, 'expired');
  });

  it('delivers a signed webhook, retrying after a failed attempt', async () => {
    receiver.plan('/hook', [500]);
    const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([2, 2, 2, 2], [1, 1, 1, 1]), {
      ...ASYNC,
      'callback-url': receiver.url('/hook'),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const deliveries = await receiver.waitFor('/hook', 2);
    assert.deepEqual(
      deliveries.map((d) => d.answered),
      [500, 200],
    );
    const last = deliveries[1]!;
    assert.equal(last.body.id, res.body.id);
    assert.equal(last.body.status, 'succeeded');
    assert.deepEqual(last.body.result.outputs.find((o: any) => o.name === 'sum').data, [3, 3, 3, 3]);
    assert.equal(last.headers['x-switchyard-event'], 'job.succeeded');
    assert.equal(last.headers['x-switchyard-delivery'], `${res.body.id}/2`);
    const signature = last.headers['x-switchyard-signature'] as string;
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifyWebhookSignature(SECRET, last.raw, signature));
    assert.ok(!verifyWebhookSignature('another-secret-0123456789', last.raw, signature));
    assert.ok(!verifyWebhookSignature(SECRET, last.raw.replace('succeeded', 'failed'), signature));
  });

  it('follows no redirect: a 3xx answer ends the delivery', async () => {
    receiver.plan('/moved', [302]);
    const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]), {
      ...ASYNC,
      'callback-url': receiver.url('/moved'),
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await receiver.waitFor('/moved', 1);
    await sleep(1000); // past two retry delays
    assert.equal(receiver.to('/moved').length, 1);
    assert.equal(receiver.to('/elsewhere').length, 0);
  });

  it('refuses callbacks to hosts not on the allow-list with 400 naming the host', async () => {
    const cases: [string, RegExp][] = [
      ['http://169.254.169.254/latest/meta-data/', /'169\.254\.169\.254:80' is not on WEBHOOK_ALLOWED_HOSTS/],
      [`http://127.0.0.1:${receiver.port + 2}/`, new RegExp(`'127\\.0\\.0\\.1:${receiver.port + 2}' is not on`)],
      [`http://localhost:${receiver.port + 1}/`, /'localhost:\d+' \(resolves to [^)]*127\.0\.0\.1[^)]*\) is not on/],
      ['ftp://127.0.0.1/', /only http and https/],
    ];
    for (const [url, error] of cases) {
      const res = await postJson(`${api.url}/v2/models/sum/infer`, sumRequest([1, 1, 1, 1], [1, 1, 1, 1]), {
        ...ASYNC,
        'callback-url': url,
      });
      assert.equal(res.status, 400, url);
      assert.match(res.body.error, error, url);
    }
  });

  it('answers 404 for an unknown job', async () => {
    assert.equal((await getJson(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000`)).status, 404);
    assert.equal((await getJson(`${api.url}/v1/jobs/not-a-job`)).status, 404);
  });
});
