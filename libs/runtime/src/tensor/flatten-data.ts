import { ScoringError, type Datatype, type TensorData } from '../../../contracts/src/index.js';

/**
 * Highest rank accepted on the wire. Nested data is walked recursively, one stack frame per
 * dimension, so the rank bounds the recursion; no ONNX model in practice comes near this.
 */
export const MAX_RANK = 64;

/** Number of elements of a tensor of this shape (1 for a scalar shape `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Inclusive integer ranges of the integer datatypes; the 64-bit ones stop at JSON's exact range. */
const INT_RANGE: Partial<Record<Datatype, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/**
 * Exclusive magnitude bound of the floating datatypes: values at or beyond it would round to
 * Infinity when stored (65520 is where FP16 rounding leaves 65504, its largest finite value).
 */
const FLOAT_LIMIT: Partial<Record<Datatype, number>> = {
  FP16: 65520,
  FP32: 2 ** 128 - 2 ** 103, // FLT_MAX plus half an ulp
  FP64: Infinity,
};

/**
 * Validates Open Inference Protocol tensor data and returns it flat and row-major.
 *
 * Accepts flat data (the common case, returned as-is after one validation pass, no copy) or
 * data nested exactly `shape.length` levels deep. Element rules per datatype: BOOL takes
 * booleans; integer types take integers within the type's range (INT64/UINT64 only safe
 * integers, since larger JSON numbers have already lost precision); FP types take finite
 * numbers representable in the type; BYTES takes strings.
 *
 * @throws ScoringError (400) naming the tensor for any malformed shape or data.
 */
export function flattenTensorData(name: string, datatype: Datatype, shape: number[], data: unknown): TensorData {
  const fail = (msg: string): ScoringError => ScoringError.badRequest(`input '${name}': ${msg}`);
  if (!Array.isArray(shape) || shape.length > MAX_RANK) {
    throw fail(`shape must be an array of at most ${MAX_RANK} dimensions`);
  }
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw fail(`shape ${fmtShape(shape)} must contain non-negative integers only`);
    }
  }
  if (!Array.isArray(data)) throw fail('data must be an array');

  // Nested iff the first element is an array; a flat array holding an array anywhere else
  // fails the element check below, which reports it as nesting.
  if (shape.length === 0 || data.length === 0 || !Array.isArray(data[0])) {
    const expected = elementCount(shape);
    if (data.length !== expected) {
      throw fail(`expected ${expected} elements for shape ${fmtShape(shape)}, got ${data.length}`);
    }
    checkElements(fail, datatype, shape, data, 0, null);
    return data as TensorData;
  }

  const out: unknown[] = [];
  const path: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    const want = shape[depth] as number;
    if (!Array.isArray(node)) {
      throw fail(`data${fmtPath(path)} is not an array; nested data must match shape ${fmtShape(shape)}`);
    }
    if (node.length !== want) {
      throw fail(`data${fmtPath(path)} has ${node.length} elements, expected ${want} for shape ${fmtShape(shape)}`);
    }
    if (depth === shape.length - 1) {
      checkElements(fail, datatype, shape, node, out.length, out);
      return;
    }
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      walk(node[i], depth + 1);
      path.pop();
    }
  };
  walk(data, 0);
  return out as TensorData;
}

/**
 * Checks every element of `src` against the datatype in one pass; when `out` is given, also
 * appends them to it. `offset` is the flat index of `src[0]`, for error messages. The datatype
 * switch sits outside the loops so each loop stays monomorphic and allocation-free.
 */
function checkElements(
  fail: (msg: string) => ScoringError,
  datatype: Datatype,
  shape: readonly number[],
  src: readonly unknown[],
  offset: number,
  out: unknown[] | null,
): void {
  const n = src.length;
  let bad = -1;
  const range = INT_RANGE[datatype];
  const limit = FLOAT_LIMIT[datatype];
  if (datatype === 'BOOL') {
    for (let i = 0; i < n; i++)
      if (typeof src[i] !== 'boolean') {
        bad = i;
        break;
      }
  } else if (datatype === 'BYTES') {
    for (let i = 0; i < n; i++)
      if (typeof src[i] !== 'string') {
        bad = i;
        break;
      }
  } else if (range !== undefined) {
    const [lo, hi] = range;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
        bad = i;
        break;
      }
    }
  } else if (limit !== undefined) {
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (typeof v !== 'number' || !(Math.abs(v) < limit)) {
        bad = i;
        break;
      }
    }
  } else {
    throw fail(`unsupported datatype ${String(datatype)}`);
  }
  if (bad >= 0) throw fail(describeBad(datatype, shape, src[bad], offset + bad));
  if (out !== null) for (let i = 0; i < n; i++) out.push(src[i]);
}

/** Builds the message for a rejected element; only runs on the error path. */
function describeBad(datatype: Datatype, shape: readonly number[], v: unknown, index: number): string {
  if (Array.isArray(v)) return `data is nested deeper than shape ${fmtShape(shape)} (element ${index})`;
  const got = ` (got ${fmtValue(v)})`;
  const range = INT_RANGE[datatype];
  if (datatype === 'BOOL') return `element ${index} is not a boolean${got}`;
  if (datatype === 'BYTES') return `element ${index} is not a string${got}`;
  if (datatype === 'INT64' || datatype === 'UINT64') {
    return `element ${index} is not a safe integer in ${datatype} range [${range?.[0]}, ${range?.[1]}]${got}; larger 64-bit values cannot travel exactly as JSON numbers`;
  }
  if (range !== undefined) {
    return `element ${index} is not an integer in ${datatype} range [${range[0]}, ${range[1]}]${got}`;
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    return `element ${index} is outside the finite ${datatype} range${got}`;
  }
  return `element ${index} is not a finite number${got}; non-finite values (NaN, Infinity) are not allowed`;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function fmtPath(path: readonly number[]): string {
  return path.map((i) => `[${i}]`).join('');
}

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return 'an object';
}
