import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ScoringError, type Datatype, type WireTensor } from '../../libs/contracts/src/index.js';
import {
  concatRows,
  elementCount,
  flattenTensorData,
  fromHalfBits,
  fromOrtTensor,
  rowSignature,
  splitRows,
  toHalfBits,
  toOrtTensor,
} from '../../libs/runtime/src/tensor/tensor-codec.js';

/** Asserts that fn throws a 400 ScoringError naming tensor `x` and matching `pattern`. */
function assertBad(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ScoringError, `expected ScoringError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.match(err.message, /^input 'x': /);
    assert.match(err.message, pattern);
    return true;
  });
}

const wire = (datatype: Datatype, shape: number[], data: unknown): WireTensor => ({
  name: 'x',
  datatype,
  shape,
  data: flattenTensorData('x', datatype, shape, data),
});

const roundTrip = (t: WireTensor): WireTensor => fromOrtTensor(t.name, toOrtTensor(t));

describe('flattenTensorData + toOrtTensor/fromOrtTensor round trip', () => {
  const cases: Array<[Datatype, string, unknown[]]> = [
    ['BOOL', 'bool', [true, false, false, true, true, false]],
    ['UINT8', 'uint8', [0, 1, 2, 127, 128, 255]],
    ['UINT16', 'uint16', [0, 1, 300, 40000, 65534, 65535]],
    ['UINT32', 'uint32', [0, 1, 70000, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1]],
    ['UINT64', 'uint64', [0, 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]],
    ['INT8', 'int8', [-128, -1, 0, 1, 100, 127]],
    ['INT16', 'int16', [-32768, -300, 0, 1, 300, 32767]],
    ['INT32', 'int32', [-(2 ** 31), -70000, -1, 0, 70000, 2 ** 31 - 1]],
    ['INT64', 'int64', [Number.MIN_SAFE_INTEGER, -(2 ** 32) - 1, -1, 0, 2 ** 33 + 7, Number.MAX_SAFE_INTEGER]],
    ['FP16', 'float16', [0, 1, -2, 0.5, 65504, -0.25]],
    ['FP32', 'float32', [0, 1.5, -2.25, 2 ** -140, 3.4028234663852886e38, -0.125]], // float32-exact
    ['FP64', 'float64', [0, 0.1, -1e300, Math.PI, 5e-324, 1.7976931348623157e308]],
    ['BYTES', 'string', ['a', '', 'héllo', 'x'.repeat(100), '0', 'null']],
  ];
  for (const [datatype, ortType, data] of cases) {
    it(`${datatype} survives wire -> ORT -> wire`, () => {
      const t = wire(datatype, [2, 3], data);
      const o = toOrtTensor(t);
      assert.equal(o.type, ortType);
      assert.deepEqual(o.dims, [2, 3]);
      const back = fromOrtTensor('x', o);
      assert.deepEqual(back, { name: 'x', datatype, shape: [2, 3], data });
    });
    it(`${datatype} nested data flattens like flat data`, () => {
      const nested = [data.slice(0, 3), data.slice(3)];
      assert.deepEqual(flattenTensorData('x', datatype, [2, 3], nested), data);
      const deep = [[data.slice(0, 3)], [data.slice(3)]];
      assert.deepEqual(flattenTensorData('x', datatype, [2, 1, 3], deep), data);
    });
  }

  it('uses the expected typed arrays', () => {
    assert.ok(toOrtTensor(wire('INT64', [1], [-5])).data instanceof BigInt64Array);
    assert.deepEqual([...(toOrtTensor(wire('INT64', [2], [-5, 2 ** 40])).data as BigInt64Array)], [-5n, 2n ** 40n]);
    assert.deepEqual([...(toOrtTensor(wire('UINT64', [1], [2 ** 52])).data as BigUint64Array)], [2n ** 52n]);
    assert.deepEqual([...(toOrtTensor(wire('BOOL', [2], [true, false])).data as Uint8Array)], [1, 0]);
    assert.deepEqual([...(toOrtTensor(wire('FP16', [1], [1])).data as Uint16Array)], [0x3c00]);
  });

  it('converts int64 beyond the safe range with Number() semantics', () => {
    const big = new ort.Tensor('int64', new BigInt64Array([2n ** 62n + 1n, -(2n ** 63n)]), [2]);
    assert.deepEqual(fromOrtTensor('y', big).data, [Number(2n ** 62n + 1n), -(2 ** 63)]);
    const ubig = new ort.Tensor('uint64', new BigUint64Array([2n ** 64n - 1n]), [1]);
    assert.deepEqual(fromOrtTensor('y', ubig).data, [2 ** 64]);
  });

  it('accepts scalars and zero-element tensors', () => {
    assert.deepEqual(roundTrip(wire('FP32', [], [2.5])), { name: 'x', datatype: 'FP32', shape: [], data: [2.5] });
    for (const shape of [[0], [0, 3], [2, 0], [2, 0, 3]]) {
      const t = wire('INT64', shape, shape[0] === 0 ? [] : [[], []]);
      assert.deepEqual(t.data, []);
      assert.equal(toOrtTensor(t).size, 0);
      assert.deepEqual(roundTrip(t), { name: 'x', datatype: 'INT64', shape, data: [] });
    }
    assert.deepEqual(roundTrip(wire('BYTES', [0, 2], [])).data, []);
  });

  it('toOrtTensor refuses data that does not fill the shape', () => {
    assertBad(() => toOrtTensor({ name: 'x', datatype: 'FP32', shape: [2], data: [1] }), /expected 2 elements/);
  });
});

describe('flattenTensorData rejections', () => {
  it('refuses bad shapes', () => {
    assertBad(() => flattenTensorData('x', 'FP32', [2, -1], [1, 2]), /non-negative integers/);
    assertBad(() => flattenTensorData('x', 'FP32', [1.5], [1]), /non-negative integers/);
    assertBad(() => flattenTensorData('x', 'FP32', new Array<number>(65).fill(1), [1]), /at most 64/);
    assertBad(() => flattenTensorData('x', 'FP32', [1], 'abc'), /data must be an array/);
  });

  it('refuses flat data of the wrong length', () => {
    assertBad(
      () => flattenTensorData('x', 'FP32', [3, 4], new Array<number>(10).fill(0)),
      /expected 12 elements for shape \[3,4\], got 10/,
    );
    assertBad(() => flattenTensorData('x', 'FP32', [0], [1]), /expected 0 elements/);
  });

  it('refuses ragged and mis-shaped nested data', () => {
    assertBad(
      () =>
        flattenTensorData(
          'x',
          'INT32',
          [2, 3],
          [
            [1, 2, 3],
            [4, 5],
          ],
        ),
      /data\[1\] has 2 elements, expected 3/,
    );
    assertBad(
      () =>
        flattenTensorData(
          'x',
          'INT32',
          [3, 2],
          [
            [1, 2],
            [3, 4],
          ],
        ),
      /data has 2 elements, expected 3/,
    );
    assertBad(() => flattenTensorData('x', 'INT32', [2, 2], [[1, 2], 3]), /data\[1\] is not an array/);
    assertBad(
      () =>
        flattenTensorData(
          'x',
          'INT32',
          [2, 2, 1],
          [
            [[1], [2]],
            [[3], 4],
          ],
        ),
      /data\[1\]\[1\] is not an array/,
    );
  });

  it('refuses nesting deeper than the shape', () => {
    assertBad(() => flattenTensorData('x', 'INT32', [2], [[1], [2]]), /nested deeper than shape \[2\]/);
    assertBad(() => flattenTensorData('x', 'INT32', [1, 1], [[[1]]]), /nested deeper than shape \[1,1\]/);
    assertBad(() => flattenTensorData('x', 'INT32', [], [[1]]), /nested deeper than shape \[\]/);
    assertBad(() => flattenTensorData('x', 'INT32', [2], [1, [2]]), /nested deeper/);
  });

  it('refuses out-of-range integers', () => {
    assertBad(
      () => flattenTensorData('x', 'INT8', [6], [0, 0, 0, 0, 0, 128]),
      /element 5 is not an integer in INT8 range \[-128, 127\] \(got 128\)/,
    );
    assertBad(() => flattenTensorData('x', 'UINT8', [1], [-1]), /UINT8 range \[0, 255\]/);
    assertBad(() => flattenTensorData('x', 'UINT16', [1], [65536]), /UINT16 range/);
    assertBad(() => flattenTensorData('x', 'INT16', [1], [-32769]), /INT16 range/);
    assertBad(() => flattenTensorData('x', 'UINT32', [1], [2 ** 32]), /UINT32 range/);
    assertBad(() => flattenTensorData('x', 'INT32', [1], [2 ** 31]), /INT32 range/);
    assertBad(() => flattenTensorData('x', 'INT64', [1], [2 ** 53]), /not a safe integer in INT64/);
    assertBad(() => flattenTensorData('x', 'UINT64', [1], [-1]), /not a safe integer in UINT64/);
  });

  it('refuses non-integers and wrong element types, with the flat index', () => {
    assertBad(
      () =>
        flattenTensorData(
          'x',
          'INT32',
          [2, 2],
          [
            [1, 2],
            [3, 4.5],
          ],
        ),
      /element 3 is not an integer/,
    );
    assertBad(() => flattenTensorData('x', 'INT64', [1], ['12']), /element 0 .*\(got "12"\)/);
    assertBad(() => flattenTensorData('x', 'BOOL', [2], [true, 1]), /element 1 is not a boolean/);
    assertBad(() => flattenTensorData('x', 'BYTES', [2], ['a', 1]), /element 1 is not a string/);
    assertBad(() => flattenTensorData('x', 'FP32', [2], [1, null]), /element 1 is not a finite number/);
    assertBad(() => flattenTensorData('x', 'FP32', [1], [{}]), /not a finite number \(got an object\)/);
  });

  it('refuses non-finite and out-of-range floats', () => {
    for (const dt of ['FP16', 'FP32', 'FP64'] as const) {
      assertBad(() => flattenTensorData('x', dt, [1], ['NaN']), /non-finite values .* are not allowed/);
      assertBad(() => flattenTensorData('x', dt, [1], [Infinity]), /non-finite/);
      assertBad(() => flattenTensorData('x', dt, [1], [NaN]), /non-finite/);
    }
    assertBad(() => flattenTensorData('x', 'FP16', [1], [65520]), /outside the finite FP16 range/);
    assertBad(() => flattenTensorData('x', 'FP32', [1], [1e39]), /outside the finite FP32 range/);
    assert.deepEqual(flattenTensorData('x', 'FP16', [1], [65519.9]), [65519.9]);
    const fltMax = 3.4028234663852886e38;
    assert.deepEqual(flattenTensorData('x', 'FP32', [1], [fltMax]), [fltMax]);
    const edge = fltMax + 2 ** 103;
    assert.equal(Math.fround(edge), Infinity);
    assertBad(() => flattenTensorData('x', 'FP32', [1], [edge]), /outside/);
    const below = edge - 2 ** 80; // largest doubles under the bound still round to FLT_MAX
    assert.equal(Math.fround(below), fltMax);
    assert.deepEqual(flattenTensorData('x', 'FP32', [1], [below]), [below]);
  });

  it('returns flat input without copying', () => {
    const data = [1, 2, 3];
    assert.equal(flattenTensorData('x', 'FP32', [3], data), data);
  });
});

describe('FP16 conversion', () => {
  it('encodes known values exactly', () => {
    const known: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [0, 0x0000],
      [-0, 0x8000],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
      [0.1, 0x2e66],
      [65519, 0x7bff],
      [65520, 0x7c00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [v, bits] of known) assert.equal(toHalfBits(v), bits, `toHalfBits(${v})`);
    assert.equal(toHalfBits(NaN) & 0x7c00, 0x7c00);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  });

  it('rounds halfway cases to even', () => {
    assert.equal(toHalfBits(2 ** -25), 0x0000); // 0.5 ulp -> even 0
    assert.equal(toHalfBits(3 * 2 ** -25), 0x0002); // 1.5 ulp -> even 2
    assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00); // halfway 1 and next -> even (1)
    assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02); // halfway -> even mantissa 2
    assert.equal(toHalfBits(1 + 2 ** -11 + 2 ** -30), 0x3c01); // just above halfway rounds up
    assert.equal(toHalfBits(2047.5 * 2 ** -10), 0x4000); // mantissa carry into the exponent
  });

  it('decodes and round-trips every finite half value', () => {
    assert.equal(fromHalfBits(0x3c00), 1);
    assert.equal(fromHalfBits(0x0001), 2 ** -24);
    assert.equal(fromHalfBits(0x7bff), 65504);
    assert.ok(Object.is(fromHalfBits(0x8000), -0));
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      assert.equal(toHalfBits(fromHalfBits(h)), h);
    }
  });

  it('keeps FP16 wire values within half precision', () => {
    const data = [0.1, 1 / 3, -123.456, 1e-6];
    const back = roundTrip(wire('FP16', [4], data)).data as number[];
    data.forEach((v, i) => {
      const tol = Math.max(Math.abs(v) * 2 ** -11, 2 ** -25);
      assert.ok(Math.abs((back[i] as number) - v) <= tol, `${v} -> ${back[i]}`);
    });
  });
});

describe('fromOrtTensor output types', () => {
  it('widens int4/uint4 to INT8/UINT8', () => {
    // ORT's runtime stores int4 in a Uint8Array, whatever its typings say.
    const i4 = new ort.Tensor('int4', new Uint8Array([0x7f, 0x8]) as unknown as Int8Array, [3]);
    // packed low nibble first: 0xf -> -1, 0x7 -> 7, 0x8 -> -8
    assert.deepEqual(fromOrtTensor('q', i4), { name: 'q', datatype: 'INT8', shape: [3], data: [-1, 7, -8] });
    const u4 = new ort.Tensor('uint4', new Uint8Array([0x21, 0x03]), [3]);
    assert.deepEqual(fromOrtTensor('q', u4).data, [1, 2, 3]);
  });
});

describe('batch helpers', () => {
  it('elementCount and rowSignature', () => {
    assert.equal(elementCount([]), 1);
    assert.equal(elementCount([2, 3, 4]), 24);
    assert.equal(elementCount([2, 0, 4]), 0);
    assert.equal(rowSignature({ name: 'x', datatype: 'FP32', shape: [7, 4, 3], data: [] }), 'FP32:4x3');
    assert.equal(rowSignature({ name: 'x', datatype: 'INT64', shape: [7], data: [] }), 'INT64:');
    assert.equal(rowSignature({ name: 'x', datatype: 'INT64', shape: [], data: [1] }), 'INT64');
  });

  for (const [datatype, rowsA, rowsB] of [
    [
      'FP32',
      [
        [1, 2],
        [3, 4],
      ],
      [[5, 6]],
    ],
    [
      'INT64',
      [[-(2 ** 40), 2]],
      [
        [3, 4],
        [5, Number.MAX_SAFE_INTEGER],
        [7, 8],
      ],
    ],
    [
      'BYTES',
      [['a', 'b']],
      [
        ['c', 'd'],
        ['', 'f'],
      ],
    ],
    ['BOOL', [[true, false]], [[false, true]]],
    ['FP16', [[1, 2]], [[0.5, -3]]],
  ] as Array<[Datatype, unknown[][], unknown[][]]>) {
    it(`concatRows/splitRows round trip ${datatype}`, () => {
      const a = toOrtTensor(wire(datatype, [rowsA.length, 2], rowsA));
      const b = toOrtTensor(wire(datatype, [rowsB.length, 2], rowsB));
      const joined = concatRows([a, b]);
      const rows = rowsA.length + rowsB.length;
      assert.deepEqual(joined.dims, [rows, 2]);
      assert.deepEqual(fromOrtTensor('x', joined).data, [...rowsA.flat(), ...rowsB.flat()]);
      const [pa, pb, empty] = splitRows(joined, [rowsA.length, rowsB.length, 0]);
      assert.deepEqual(fromOrtTensor('x', pa!), fromOrtTensor('x', a));
      assert.deepEqual(fromOrtTensor('x', pb!), fromOrtTensor('x', b));
      assert.deepEqual(empty!.dims, [0, 2]);
    });
  }

  it('split pieces of numeric tensors are views of the source buffer', () => {
    const t = toOrtTensor(wire('FP32', [3, 2], [1, 2, 3, 4, 5, 6]));
    const [, second] = splitRows(t, [1, 2]);
    assert.equal((second!.data as Float32Array).buffer, (t.data as Float32Array).buffer);
    assert.deepEqual(second!.dims, [2, 2]);
    assert.deepEqual([...(second!.data as Float32Array)], [3, 4, 5, 6]);
  });

  it('concatRows of one part returns it', () => {
    const t = toOrtTensor(wire('FP32', [1, 2], [1, 2]));
    assert.equal(concatRows([t]), t);
  });

  it('rejects mismatched parts and bad row counts', () => {
    const a = toOrtTensor(wire('FP32', [1, 2], [1, 2]));
    const b = toOrtTensor(wire('FP32', [1, 3], [1, 2, 3]));
    const c = toOrtTensor(wire('FP64', [1, 2], [1, 2]));
    const s = toOrtTensor(wire('FP32', [], [1]));
    assert.throws(() => concatRows([a, b]), /non-batch dims differ/);
    assert.throws(() => concatRows([a, c]), /mixed tensor types/);
    assert.throws(() => concatRows([]), /no tensors/);
    assert.throws(() => concatRows([s, s]), /rank-0/);
    assert.throws(() => splitRows(a, [2]), /sum to 2, tensor has 1 rows/);
    assert.throws(() => splitRows(a, [-1, 2]), /invalid row count/);
    assert.throws(() => splitRows(a, [0.5, 0.5]), /invalid row count/);
  });
});
