import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ScoringJob, ScoringReply } from '../../libs/contracts/src/index.js';
import { validateModelConfig } from '../../libs/runtime/src/index.js';
import { captureRecord, PayloadCapture, RotatingJsonlWriter } from '../../libs/telemetry/src/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-capture-'));
  dirs.push(dir);
  return dir;
}
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const job = (over: Partial<ScoringJob> = {}): ScoringJob => ({
  id: 'job-1',
  requestId: 'req-1',
  model: 'sum',
  kind: 'tensors',
  inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
  replyTo: 'sy:_reply:api-secret-instance',
  deadline: Date.now() + 1000,
  acceptedAt: Date.now(),
  trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  ...over,
});
const ok: ScoringReply = {
  id: 'job-1',
  ok: true,
  model: 'sum',
  version: '2',
  outputs: [{ name: 'sum', datatype: 'FP32', shape: [1, 2], data: [3, 4] }],
  timings: { queue: 1, preprocess: 0.1, inference: 0.5, batchSize: 1 },
};

describe('payload capture', () => {
  it('records inputs, outputs, model, version, timings and ids, and nothing of the transport', () => {
    const record = captureRecord(job(), ok, 'succeeded');
    assert.equal(record.model, 'sum');
    assert.equal(record.version, '2');
    assert.equal(record.request_id, 'req-1');
    assert.deepEqual(record.inputs, job().inputs);
    assert.deepEqual(record.outputs, ok.outputs);
    assert.deepEqual(record.timings, ok.timings);
    const text = JSON.stringify(record);
    for (const absent of ['replyTo', 'api-secret-instance', 'traceparent', 'deadline']) {
      assert.ok(!text.includes(absent), `${absent} must not be captured`);
    }
  });

  it('keeps texts, reduces images to sha256 and length, drops unknown parameters', () => {
    const image = Buffer.from('not really a png, but bytes');
    const friendly = captureRecord(
      job({
        kind: 'friendly',
        inputs: undefined,
        payload: { images: [image.toString('base64')] },
        parameters: { top_k: 2, callback_url: 'https://x/?token=s3cret' },
      }),
      { id: 'job-1', ok: false, status: 400, error: 'bad image' },
      'failed',
    );
    assert.deepEqual(friendly.payload, {
      images: [{ sha256: createHash('sha256').update(image).digest('hex'), bytes: image.length }],
    });
    assert.deepEqual(friendly.parameters, { top_k: 2 });
    assert.equal(friendly.status, 400);
    assert.ok(!JSON.stringify(friendly).includes(image.toString('base64')));
    const texts = captureRecord(job({ kind: 'friendly', payload: { texts: ['hello'] } }), ok, 'succeeded');
    assert.deepEqual(texts.payload, { texts: ['hello'] });
  });

  it('rotates files by size and keeps at most max_files', async () => {
    const dir = await tempDir();
    const writer = new RotatingJsonlWriter({ dir, prefix: 'sum', maxFileBytes: 100, maxFiles: 3 });
    for (let i = 0; i < 10; i++) writer.write(JSON.stringify({ i, pad: 'x'.repeat(60) }));
    await writer.close();
    const files = (await readdir(dir)).sort();
    assert.equal(files.length, 3);
    const lines = (await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')))).join('').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { i: number }).i),
      [7, 8, 9],
    );
    assert.equal(writer.written, 10);
  });

  it('samples by sample_rate and writes nothing when disabled', async () => {
    const dir = await tempDir();
    const config = await validateModelConfig(
      { capture: { enabled: true, sample_rate: 0.5, dir } },
      'config.json',
      'sum',
    );
    let r = 0;
    const capture = new PayloadCapture('sum', config.capture, () => (r++ % 2 === 0 ? 0.1 : 0.9));
    for (let i = 0; i < 6; i++) capture.offer(job(), ok, 'succeeded');
    await capture.close();
    const [file] = await readdir(dir);
    assert.equal((await readFile(join(dir, file!), 'utf8')).trim().split('\n').length, 3);

    const off = await validateModelConfig({}, 'config.json', 'sum');
    assert.equal(off.capture.enabled, false);
    assert.equal(off.capture.sample_rate, 0.01);
    assert.equal(off.capture.max_file_bytes, 10 * 1024 * 1024);
    assert.equal(off.capture.max_files, 10);
    await assert.rejects(validateModelConfig({ capture: { sample_rate: 2 } }, 'config.json', 'sum'), /sample_rate/);
  });
});
