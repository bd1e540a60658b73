import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScoringError } from '../../libs/contracts/src/index.js';
import {
  DynamicBatcher,
  type BatcherOptions,
  type BatchItemInfo,
  type BatchRun,
} from '../../libs/runtime/src/batching/dynamic-batcher.js';

/** Long enough that a batch formed before it elapses can only have been flushed by size. */
const NEVER_MS = 10_000;

/** A batcher whose runner doubles its inputs and records every batch it was given. */
function recording(options: BatcherOptions, fail?: (inputs: number[]) => boolean) {
  const batches: number[][] = [];
  const batcher = new DynamicBatcher<number, number>(options, async (inputs) => {
    batches.push([...inputs]);
    if (fail?.(inputs)) throw new Error(`bad batch [${inputs.join(',')}]`);
    return inputs.map((x) => x * 2);
  });
  return { batches, batcher };
}

const info = (over: Partial<BatchItemInfo> = {}): BatchItemInfo => ({
  rows: 1,
  signature: 'fp32[4]',
  deadline: Date.now() + 60_000,
  ...over,
});

const outputs = (runs: BatchRun<number>[]): number[] => runs.map((r) => r.output);
const sizes = (runs: BatchRun<number>[]): number[] => runs.map((r) => r.batchSize);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('DynamicBatcher', () => {
  it('runs a full batch as soon as it reaches maxBatchSize, without waiting out the delay', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 3, maxQueueDelayMs: NEVER_MS });
    const p1 = batcher.submit(1, info());
    const p2 = batcher.submit(2, info());
    assert.equal(batches.length, 0, 'two of three rows must wait');
    const p3 = batcher.submit(3, info());
    assert.deepEqual(batches, [[1, 2, 3]], 'the third row fills the batch and starts it at once');
    const runs = await Promise.all([p1, p2, p3]);
    assert.deepEqual(outputs(runs), [2, 4, 6]);
    assert.deepEqual(sizes(runs), [3, 3, 3]);
    assert.equal(batcher.depth, 0);
  });

  it('runs a partial batch once the delay after its first item has passed', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: 20 });
    const pending = [batcher.submit(1, info()), batcher.submit(2, info()), batcher.submit(3, info())];
    assert.equal(batches.length, 0, 'nothing runs before the delay');
    assert.equal(batcher.depth, 3);
    const runs = await Promise.all(pending);
    assert.deepEqual(batches, [[1, 2, 3]]);
    assert.deepEqual(outputs(runs), [2, 4, 6]);
    assert.ok(runs.every((r) => r.batchSize === 3 && r.waitedMs >= 0 && r.inferenceMs >= 0));
  });

  it('flushes early when the batch reaches a preferred size', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: NEVER_MS, preferredBatchSizes: [3] });
    const p1 = batcher.submit(1, info());
    assert.equal(batches.length, 0);
    const p2 = batcher.submit(2, info({ rows: 2 }));
    assert.deepEqual(batches, [[1, 2]], '1 + 2 rows reach the preferred size 3');
    assert.deepEqual(sizes(await Promise.all([p1, p2])), [2, 2]);
  });

  it('with delay 0, batches the items submitted in the same tick and runs later ones separately', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const first = [batcher.submit(1, info()), batcher.submit(2, info()), batcher.submit(3, info())];
    assert.equal(batches.length, 0, 'delay 0 still waits for the current tick to end');
    await Promise.all(first);
    await batcher.submit(4, info());
    assert.deepEqual(batches, [[1, 2, 3], [4]]);
  });

  it('never puts items of different signatures in one batch', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: 20 });
    const runs = await Promise.all([
      batcher.submit(1, info({ signature: 'A' })),
      batcher.submit(2, info({ signature: 'B' })),
      batcher.submit(3, info({ signature: 'A' })),
      batcher.submit(4, info({ signature: 'B' })),
    ]);
    assert.deepEqual(
      batches,
      [
        [1, 3],
        [2, 4],
      ],
      'oldest signature first, each batch homogeneous',
    );
    assert.deepEqual(outputs(runs), [2, 4, 6, 8]);
    assert.deepEqual(sizes(runs), [2, 2, 2, 2]);
  });

  it('counts rows, not items, against maxBatchSize', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 4, maxQueueDelayMs: NEVER_MS });
    const p1 = batcher.submit(1, info({ rows: 3 }));
    assert.equal(batches.length, 0);
    const p2 = batcher.submit(2, info({ rows: 1 }));
    assert.deepEqual(batches, [[1, 2]], '3 + 1 rows fill a batch of 4');
    await Promise.all([p1, p2]);
  });

  it('leaves an item that would overflow the batch for the next one', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 4, maxQueueDelayMs: 20 });
    const p1 = batcher.submit(1, info({ rows: 3 }));
    const p2 = batcher.submit(2, info({ rows: 2 }));
    assert.deepEqual(batches, [[1]], '3 + 2 rows exceed 4: the first item runs alone at once');
    const runs = await Promise.all([p1, p2]);
    assert.deepEqual(batches, [[1], [2]]);
    assert.deepEqual(sizes(runs), [1, 1]);
  });

  it('refuses an item with more rows than maxBatchSize with a 400, without running it', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 4, maxQueueDelayMs: 0 });
    await assert.rejects(batcher.submit(1, info({ rows: 5 })), (err: unknown) => {
      assert.ok(err instanceof ScoringError);
      assert.equal(err.status, 400);
      assert.match(err.message, /5 rows exceeds the model's max_batch_size 4/);
      return true;
    });
    assert.equal(batcher.depth, 0);
    await sleep(20);
    assert.equal(batches.length, 0);
  });

  it('re-runs a failed batch item by item so only the bad item fails', async () => {
    const BAD = 99;
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: 20 }, (inputs) => inputs.includes(BAD));
    const [a, bad, c] = await Promise.allSettled([
      batcher.submit(1, info()),
      batcher.submit(BAD, info()),
      batcher.submit(3, info()),
    ]);
    assert.deepEqual(batches, [[1, BAD, 3], [1], [BAD], [3]]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(c.status, 'fulfilled');
    if (a.status === 'fulfilled' && c.status === 'fulfilled') {
      assert.deepEqual([a.value.output, c.value.output], [2, 6]);
      assert.deepEqual([a.value.batchSize, c.value.batchSize], [1, 1]);
    }
    assert.equal(bad.status, 'rejected');
    if (bad.status === 'rejected') assert.match(String(bad.reason), /bad batch \[99\]/);
  });

  it('drops items whose deadline has passed with a 504, never runs them and counts them', async () => {
    const { batches, batcher } = recording({ maxBatchSize: 8, maxQueueDelayMs: 100 });
    const already = batcher.submit(1, info({ deadline: Date.now() - 1 }));
    const whileWaiting = batcher.submit(2, info({ deadline: Date.now() + 5 }));
    const fresh = batcher.submit(3, info());
    const [r1, r2, r3] = await Promise.allSettled([already, whileWaiting, fresh]);
    for (const r of [r1, r2]) {
      assert.equal(r.status, 'rejected');
      if (r.status === 'rejected') {
        assert.ok(r.reason instanceof ScoringError);
        assert.equal(r.reason.status, 504);
      }
    }
    assert.equal(r3.status, 'fulfilled');
    assert.deepEqual(batches, [[3]]);
    assert.equal(batcher.expired, 2);
  });

  it('fails every item when the runner returns the wrong number of outputs', async () => {
    const calls: number[][] = [];
    const batcher = new DynamicBatcher<number, number>({ maxBatchSize: 8, maxQueueDelayMs: 20 }, async (inputs) => {
      calls.push([...inputs]);
      return inputs.slice(1);
    });
    const results = await Promise.allSettled([
      batcher.submit(1, info()),
      batcher.submit(2, info()),
      batcher.submit(3, info()),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    );
    for (const r of results)
      if (r.status === 'rejected') assert.match(String(r.reason), /runner returned 0 outputs for 1 item/);
    assert.deepEqual(calls, [[1, 2, 3], [1], [2], [3]]);
  });

  it('with concurrency 1, starts the next batch only after the running one finished', async () => {
    const events: string[] = [];
    const gates = [deferred(), deferred()];
    let n = 0;
    const batcher = new DynamicBatcher<number, number>(
      { maxBatchSize: 2, maxQueueDelayMs: NEVER_MS, concurrency: 1 },
      async (inputs) => {
        const k = n++;
        events.push(`start ${inputs.join(',')}`);
        await gates[k]!.promise;
        events.push(`end ${inputs.join(',')}`);
        return inputs;
      },
    );
    const all = [1, 2, 3, 4].map((x) => batcher.submit(x, info()));
    assert.deepEqual(events, ['start 1,2'], 'the second full batch waits for the first');
    await sleep(30);
    assert.deepEqual(events, ['start 1,2'], 'and keeps waiting while the first runs');
    gates[0]!.resolve();
    await Promise.all(all.slice(0, 2));
    await sleep(0);
    assert.deepEqual(events, ['start 1,2', 'end 1,2', 'start 3,4']);
    gates[1]!.resolve();
    assert.deepEqual(outputs(await Promise.all(all)), [1, 2, 3, 4]);
  });

  it('with concurrency 2, runs two batches at once', async () => {
    const events: string[] = [];
    const gate = deferred();
    const batcher = new DynamicBatcher<number, number>(
      { maxBatchSize: 2, maxQueueDelayMs: NEVER_MS, concurrency: 2 },
      async (inputs) => {
        events.push(`start ${inputs.join(',')}`);
        await gate.promise;
        events.push(`end ${inputs.join(',')}`);
        return inputs;
      },
    );
    const all = [1, 2, 3, 4].map((x) => batcher.submit(x, info()));
    assert.deepEqual(events, ['start 1,2', 'start 3,4'], 'both batches start before either ends');
    gate.resolve();
    assert.deepEqual(outputs(await Promise.all(all)), [1, 2, 3, 4]);
    assert.deepEqual(events.slice(2).sort(), ['end 1,2', 'end 3,4']);
  });

  it('refuses a maxBatchSize below 1', () => {
    assert.throws(
      () => new DynamicBatcher({ maxBatchSize: 0, maxQueueDelayMs: 0 }, async (x: number[]) => x),
      /maxBatchSize/,
    );
  });
});
