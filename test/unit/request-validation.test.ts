import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScoringError } from '../../libs/contracts/src/index.js';
import {
  validateInputs,
  validateOutputNames,
  type RawInput,
} from '../../libs/runtime/src/tensor/request-validation.js';

/** The `sum` fixture's metadata: a, b FP32 [-1, 4] in; sum, diff out; max_batch_size 8. */
const SUM = {
  name: 'sum',
  maxBatchSize: 8,
  inputs: [
    { name: 'a', datatype: 'FP32' as const, shape: [-1, 4] },
    { name: 'b', datatype: 'FP32' as const, shape: [-1, 4] },
  ],
  outputs: [
    { name: 'sum', datatype: 'FP32' as const, shape: [-1, 4] },
    { name: 'diff', datatype: 'FP32' as const, shape: [-1, 4] },
  ],
};

/** The `nobatch` fixture's metadata: x FP32 [3], max_batch_size 0. */
const NOBATCH = {
  name: 'nobatch',
  maxBatchSize: 0,
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [3] }],
  outputs: [{ name: 'y', datatype: 'FP32' as const, shape: [3] }],
};

const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const input = (name: string, rows = 1, over: Partial<RawInput> = {}): RawInput => ({
  name,
  datatype: 'FP32',
  shape: [rows, 4],
  data: zeros(rows * 4),
  ...over,
});

/** Asserts a 400 ScoringError whose message matches every pattern. */
function assertBad(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ScoringError, `expected ScoringError, got ${String(err)}`);
    assert.equal(err.status, 400);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

describe('validateInputs', () => {
  it('accepts matching inputs and returns their batch rows and flat data', () => {
    const nestedA = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ];
    const result = validateInputs(SUM, [input('b', 2), { name: 'a', datatype: 'FP32', shape: [2, 4], data: nestedA }]);
    assert.equal(result.rows, 2);
    assert.deepEqual(
      result.inputs.map((t) => t.name),
      ['b', 'a'],
    );
    assert.deepEqual(result.inputs[1], { name: 'a', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] });
  });

  it('reports 1 row for a model that does not batch', () => {
    const result = validateInputs(NOBATCH, [{ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2, 3] }]);
    assert.equal(result.rows, 1);
    assert.deepEqual(result.inputs[0]!.shape, [3]);
  });

  it('refuses a missing input, naming it', () => {
    assertBad(() => validateInputs(SUM, [input('a')]), /missing 'b'/);
  });

  it('refuses no inputs at all', () => {
    assertBad(() => validateInputs(SUM, []), /at least one input/);
  });

  it('refuses an unknown input, naming it and the model', () => {
    assertBad(
      () => validateInputs(SUM, [input('a'), input('b'), input('c')]),
      /input 'c'/,
      /model 'sum' has no such input/,
    );
  });

  it('refuses an input given twice', () => {
    assertBad(() => validateInputs(SUM, [input('a'), input('a'), input('b')]), /input 'a': given more than once/);
  });

  it('refuses an input without a name', () => {
    assertBad(() => validateInputs(SUM, [input('a'), { ...input('b'), name: '' }]), /inputs\[1\]\.name/);
  });

  it('refuses the wrong datatype, naming both', () => {
    assertBad(
      () => validateInputs(SUM, [input('a'), input('b', 1, { datatype: 'FP64' })]),
      /input 'b': datatype FP64 does not match the model's FP32/,
    );
  });

  it('refuses an unknown datatype', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 1, { datatype: 'FLOAT' }), input('b')]),
      /input 'a': unknown datatype "FLOAT"/,
    );
  });

  it('refuses a shape of the wrong rank', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 1, { shape: [4], data: zeros(4) }), input('b')]),
      /input 'a': shape \[4\] does not match the model shape \[-1, 4\]/,
    );
  });

  it('refuses a fixed dimension that differs', () => {
    assertBad(
      () => validateInputs(SUM, [input('a'), input('b', 1, { shape: [1, 3], data: zeros(3) })]),
      /input 'b': shape \[1, 3\] does not match/,
    );
  });

  it('refuses a shape that is not a list of non-negative integers', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 1, { shape: [1, -4] }), input('b')]),
      /input 'a': shape must be an array of non-negative integers/,
    );
    assertBad(() => validateInputs(SUM, [input('a', 1, { shape: '1,4' }), input('b')]), /input 'a': shape must be/);
  });

  it('refuses a batch larger than max_batch_size', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 9), input('b', 9)]),
      /input 'a': batch of 9 rows exceeds the model's max_batch_size 8/,
    );
  });

  it('accepts a batch of exactly max_batch_size', () => {
    assert.equal(validateInputs(SUM, [input('a', 8), input('b', 8)]).rows, 8);
  });

  it('refuses an empty batch', () => {
    assertBad(() => validateInputs(SUM, [input('a', 0), input('b', 0)]), /input 'a': empty batch/);
  });

  it('refuses inputs with different batch sizes', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 1), input('b', 2)]),
      /input 'b': batch size 2 differs from the other inputs' 1/,
    );
  });

  it('refuses data whose length does not match the shape', () => {
    assertBad(
      () => validateInputs(SUM, [input('a'), input('b', 1, { data: zeros(3) })]),
      /input 'b': expected 4 elements for shape \[1,4\], got 3/,
    );
  });

  it('refuses data elements of the wrong type', () => {
    assertBad(
      () => validateInputs(SUM, [input('a', 1, { data: [0, 0, 'x', 0] }), input('b')]),
      /input 'a': element 2 is not a finite number/,
    );
  });
});

describe('validateOutputNames', () => {
  it('returns undefined (all outputs) when none are requested', () => {
    assert.equal(validateOutputNames(SUM, undefined), undefined);
    assert.equal(validateOutputNames(SUM, null), undefined);
  });

  it('returns the requested known outputs in order', () => {
    assert.deepEqual(validateOutputNames(SUM, [{ name: 'diff' }, { name: 'sum' }]), ['diff', 'sum']);
  });

  it('refuses an unknown output, naming it', () => {
    assertBad(
      () => validateOutputNames(SUM, [{ name: 'sum' }, { name: 'product' }]),
      /output 'product': model 'sum' has no such output/,
    );
  });

  it('refuses a malformed outputs list', () => {
    assertBad(() => validateOutputNames(SUM, { name: 'sum' }), /outputs: must be an array/);
    assertBad(() => validateOutputNames(SUM, [{ name: 3 }]), /outputs\[0\]\.name: must be a string/);
    assertBad(() => validateOutputNames(SUM, [null]), /outputs\[0\]\.name/);
  });
});
