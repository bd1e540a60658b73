import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createInternalService } from '../../examples/internal-service/internal-service.module.js';
import { Fleet } from './support/fleet.js';
import { getJson, postJson } from './support/http.js';
import { REFERENCE_MODELS } from './support/model-repo.js';
import { sleep } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

/**
 * The example internal service (examples/internal-service), in this process, against a real
 * API and a real `faq` worker: the ClientProxy for synchronous answers, the HTTP client for
 * an async job.
 */
describe('example internal service (ClientProxy + HTTP client)', () => {
  const prefix = freshPrefix('internal');
  const fleet = new Fleet();
  let service: NestFastifyApplication;
  let url = '';

  before(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: REFERENCE_MODELS };
    await fleet.worker({ ...env, MODEL: 'faq' });
    const api = await fleet.api(env);
    service = await createInternalService({ redisUrl: REDIS_URL, prefix, apiUrl: api.url });
    await service.listen(0, '127.0.0.1');
    url = await service.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
  });

  after(async () => {
    await service?.close();
    await fleet.stopAll();
    await deletePrefix(prefix);
  });

  it('answers a question now, through send("score.faq")', async () => {
    const res = await getJson(
      `${url}/ask?q=${encodeURIComponent('why does my for loop with setTimeout print the same value')}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.matched, /setTimeout/);
    assert.ok(res.body.answer.length > 20);
    assert.ok(res.body.score > 0 && res.body.score <= 1);
  });

  it('answers a question later, through an async job made with the HTTP client', async () => {
    const accepted = await postJson(`${url}/ask-later`, {
      question: 'why does my for loop with setTimeout print the same value',
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const until = Date.now() + 20_000;
    let res = await getJson(`${url}/answers/${accepted.body.id}`);
    while (res.body.status !== 'succeeded' && Date.now() < until) {
      assert.match(res.body.status, /^(queued|running)$/);
      await sleep(100);
      res = await getJson(`${url}/answers/${accepted.body.id}`);
    }
    assert.equal(res.body.status, 'succeeded');
    assert.match(res.body.answer.matched, /setTimeout/);
  });
});
