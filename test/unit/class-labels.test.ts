import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { topK } from '../../libs/runtime/src/handlers/class-labels.js';

/** The obvious definition: every index, stably sorted by score, best first. */
function sortedTopK(scores: number[], k: number): number[] {
  const order = scores.map((_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]!);
  return order.slice(0, k);
}

describe('topK', () => {
  it('ranks like a stable sort of every class, ties in index order', () => {
    // Scores from a small set, so ties are common.
    const scores = fc.array(
      fc.integer({ min: 0, max: 5 }).map((v) => v / 5),
      { minLength: 1, maxLength: 40 },
    );
    fc.assert(
      fc.property(scores, fc.integer({ min: 1, max: 12 }), (row, k) => {
        const got = topK(Float32Array.from(row), k, undefined).map((r) => r.index);
        assert.deepEqual(got, sortedTopK(Array.from(Float32Array.from(row)), k));
      }),
      { numRuns: 2000 },
    );
  });

  it('names each class from the labels and keeps its score', () => {
    const labels = [{ label: 'cat' }, { label: 'dog', id: 7 }, { label: 'fox' }];
    assert.deepEqual(topK([0.2, 0.7, 0.1], 2, labels), [
      { label: 'dog', id: 7, index: 1, score: 0.7 },
      { label: 'cat', index: 0, score: 0.2 },
    ]);
    assert.deepEqual(
      topK([0.5, 0.5], 5, undefined).map((r) => r.label),
      ['0', '1'],
    );
  });

  it('ranks NaN scores last', () => {
    assert.deepEqual(
      topK([Number.NaN, 0.1, 0.3], 3, undefined).map((r) => r.index),
      [2, 1, 0],
    );
  });
});
