import * as ort from 'onnxruntime-node';
import type { InputTensor } from '../../../contracts/src/index.js';
import { elementCount } from './flatten-data.js';

/*
 * Dynamic batching helpers. The first dimension is the batch dimension: compatible requests
 * (same rowSignature) are stacked along it with concatRows, run once, and each output is cut
 * back into per-request pieces with splitRows.
 */

/** A numeric ORT tensor's data buffer, whatever its element type. */
interface NumericData {
  readonly length: number;
  set(src: NumericData, offset: number): void;
  subarray(begin: number, end: number): NumericData;
}
type NumericDataCtor = new (length: number) => NumericData;

/**
 * Key under which requests can share a batch: datatype plus the non-batch dims, e.g.
 * `FP32:4x3` for shape `[n,4,3]`, or `FP32:` for shape `[n]`. A rank-0 tensor has no batch
 * dimension; its signature is the bare datatype (`FP32`), which never matches a batchable one.
 */
export function rowSignature(t: InputTensor): string {
  if (t.shape.length === 0) return t.datatype;
  return `${t.datatype}:${t.shape.slice(1).join('x')}`;
}

/**
 * Stacks tensors along the first dimension into one new tensor. A single part is returned
 * as-is (no copy).
 *
 * @throws Error when `parts` is empty, types differ, a part has rank 0, non-batch dims differ,
 *   or the type is int4/uint4 (packed nibbles cannot be joined at odd element counts).
 */
export function concatRows(parts: ort.Tensor[]): ort.Tensor {
  const first = parts[0];
  if (first === undefined) throw new Error('concatRows: no tensors to concatenate');
  const { type } = first;
  const rest = batchRest(first, 'concatRows');
  const restKey = rest.join('x');
  let rows = 0;
  for (const p of parts) {
    if (p.type !== type) throw new Error(`concatRows: mixed tensor types ${type} and ${p.type}`);
    const pRest = batchRest(p, 'concatRows');
    if (pRest.join('x') !== restKey) {
      throw new Error(`concatRows: non-batch dims differ: [${rest.join(',')}] vs [${pRest.join(',')}]`);
    }
    rows += p.dims[0] as number;
  }
  if (parts.length === 1) return first;
  const dims = [rows, ...rest];

  if (type === 'string') {
    const out: string[] = [];
    for (const p of parts) for (const s of p.data as string[]) out.push(s);
    return new ort.Tensor('string', out, dims);
  }
  checkPackable(type, 'concatRows');
  const Ctor = (first.data as unknown as NumericData).constructor as NumericDataCtor;
  const out = new Ctor(rows * elementCount(rest));
  let offset = 0;
  for (const p of parts) {
    const src = p.data as unknown as NumericData;
    out.set(src, offset);
    offset += src.length;
  }
  return makeTensor(type, out, dims);
}

/**
 * Cuts a tensor along the first dimension into pieces of `rows[i]` rows each, shaped
 * `[rows[i], ...rest]`. Numeric pieces are subarray views sharing the source buffer (no
 * copy); string pieces are slices.
 *
 * @throws Error when `rows` are not non-negative integers summing to `t.dims[0]`, the tensor
 *   has rank 0, or its type is int4/uint4.
 */
export function splitRows(t: ort.Tensor, rows: number[]): ort.Tensor[] {
  const rest = batchRest(t, 'splitRows');
  let total = 0;
  for (const r of rows) {
    if (!Number.isSafeInteger(r) || r < 0) throw new Error(`splitRows: invalid row count ${r}`);
    total += r;
  }
  if (total !== t.dims[0]) {
    throw new Error(`splitRows: row counts sum to ${total}, tensor has ${t.dims[0]} rows`);
  }
  const rowSize = elementCount(rest);
  const pieces: ort.Tensor[] = [];
  let start = 0;
  if (t.type === 'string') {
    const data = t.data as string[];
    for (const r of rows) {
      const end = start + r * rowSize;
      pieces.push(new ort.Tensor('string', data.slice(start, end), [r, ...rest]));
      start = end;
    }
    return pieces;
  }
  checkPackable(t.type, 'splitRows');
  const data = t.data as unknown as NumericData;
  for (const r of rows) {
    const end = start + r * rowSize;
    pieces.push(makeTensor(t.type, data.subarray(start, end), [r, ...rest]));
    start = end;
  }
  return pieces;
}

function batchRest(t: ort.Tensor, fn: string): number[] {
  if (t.dims.length === 0) throw new Error(`${fn}: a rank-0 tensor has no batch dimension`);
  return t.dims.slice(1);
}

function checkPackable(type: ort.Tensor.Type, fn: string): void {
  if (type === 'int4' || type === 'uint4') throw new Error(`${fn}: ${type} tensors cannot be batched`);
}

/**
 * The Tensor constructor is overloaded per type literal; with a type only known at run time,
 * one cast is needed. The data was taken from a tensor of that same type, so it matches.
 */
function makeTensor(type: ort.Tensor.Type, data: NumericData, dims: number[]): ort.Tensor {
  return new ort.Tensor(type as 'float32', data as unknown as Float32Array, dims);
}
