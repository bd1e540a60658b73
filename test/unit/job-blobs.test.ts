import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScoringJob } from '../../libs/contracts/src/index.js';
import {
  attachBlobs,
  BLOB_MIN_BYTES,
  blobKeys,
  detachBlobs,
  queueBlobWrites,
} from '../../libs/runtime/src/transport/job-blobs.js';
import { RedisKeys } from '../../libs/runtime/src/transport/redis-keys.js';

function job(payload: unknown): ScoringJob {
  return { id: 'j1', model: 'm', kind: 'friendly', payload, replyTo: 'r', deadline: 10_000, acceptedAt: 0 };
}

const big = (fill: number): Buffer => Buffer.alloc(BLOB_MIN_BYTES, fill);

describe('job blobs', () => {
  it('replaces large byte arrays by references, small ones by base64, and puts them back', () => {
    const small = Buffer.from('tiny image');
    const original = job({ images: [big(1), small, big(2)], note: 'kept' });
    const { job: sent, blobs } = detachBlobs(original);
    assert.deepEqual(blobs, [big(1), big(2)]);
    assert.equal(sent.blobs, 2);
    const wire = JSON.parse(JSON.stringify(sent)) as ScoringJob;
    assert.deepEqual(wire.payload, { images: [{ $blob: 0 }, small.toString('base64'), { $blob: 1 }], note: 'kept' });
    assert.deepEqual(original.payload, { images: [big(1), small, big(2)], note: 'kept' }, 'the original is untouched');
    const back = attachBlobs(wire, [big(1), big(2)]);
    assert.deepEqual(back.payload, { images: [big(1), small.toString('base64'), big(2)], note: 'kept' });
    assert.equal(back.blobs, undefined);
  });

  it('leaves jobs without byte arrays as they are', () => {
    const texts = job({ texts: ['a', 'b'] });
    assert.equal(detachBlobs(texts).job, texts);
    assert.deepEqual(detachBlobs(texts).blobs, []);
    const tensors: ScoringJob = { ...job(undefined), kind: 'tensors', inputs: [] };
    assert.equal(detachBlobs(tensors).job, tensors);
  });

  it('takes byte arrays of any typed view, at the exact threshold', () => {
    const view = new Uint8Array(big(7).buffer, 0, BLOB_MIN_BYTES);
    const below = new Uint8Array(BLOB_MIN_BYTES - 1);
    const { job: sent, blobs } = detachBlobs(job({ images: [view, below] }));
    assert.equal(blobs.length, 1);
    assert.deepEqual((sent.payload as { images: unknown[] }).images, [
      { $blob: 0 },
      Buffer.from(below).toString('base64'),
    ]);
  });

  it('names each blob after its job and expires it after the deadline', () => {
    const keys = new RedisKeys('p');
    const { job: sent, blobs } = detachBlobs(job({ images: [big(1), big(2)] }));
    assert.deepEqual(blobKeys(keys, sent), ['p:_blob:j1:0', 'p:_blob:j1:1']);
    const calls: unknown[][] = [];
    const pipeline = { set: (...args: unknown[]) => calls.push(args) } as never;
    queueBlobWrites(pipeline, keys, sent, blobs, 4_000);
    assert.deepEqual(
      calls.map((c) => [c[0], (c[1] as Buffer).equals(blobs[calls.indexOf(c)] as Buffer), c[2], c[3]]),
      [
        ['p:_blob:j1:0', true, 'PX', 6_000 + 5_000],
        ['p:_blob:j1:1', true, 'PX', 6_000 + 5_000],
      ],
    );
    assert.deepEqual(blobKeys(keys, job({})), []);
  });

  it('refuses to attach a blob that is gone', () => {
    const wire = JSON.parse(JSON.stringify(detachBlobs(job({ images: [big(1)] })).job)) as ScoringJob;
    assert.throws(() => attachBlobs(wire, [null]), /blob 0 of request j1 is gone from Redis/);
  });
});
