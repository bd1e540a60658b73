import { endianness } from 'node:os';
import * as ort from 'onnxruntime-node';
import {
  DATATYPE_OF,
  ELEMENT_BYTES,
  ScoringError,
  type InputTensor,
  type OrtType,
  type WireTensor,
} from '../../../contracts/src/index.js';
import { elementCount } from './flatten-data.js';
import { wholeBuffer } from './whole-buffer.js';

export { elementCount, flattenTensorData, MAX_RANK } from './flatten-data.js';
export { concatRows, rowSignature, splitRows } from './batch-rows.js';

/**
 * 64-bit integers are moved through a Uint32Array view of the BigInt64Array's buffer (two
 * 32-bit halves per element) instead of one BigInt per element: no heap allocation per
 * element, which matters for large token-id inputs. That trick assumes little-endian memory;
 * big-endian hosts fall back to BigInt conversion.
 */
const LITTLE_ENDIAN = endianness() === 'LE';
const TWO_32 = 4294967296;

/**
 * Converts a validated wire tensor (see {@link flattenTensorData}) into an onnxruntime tensor.
 * INT64/UINT64 become BigInt64Array/BigUint64Array, BOOL a Uint8Array of 0/1, FP16 a Uint16Array
 * of IEEE half bits (Node 20 has no Float16Array; ORT accepts Uint16Array for 'float16'), BYTES
 * a string tensor. Element values are trusted: run flattenTensorData on untrusted input first.
 * Binary data (a Uint8Array, checked by binaryTensorData) is copied into the typed array as is.
 *
 * @throws ScoringError (400) when the data length does not match the shape.
 */
export function toOrtTensor(t: InputTensor): ort.Tensor {
  if (t.data instanceof Uint8Array) return bytesToOrtTensor(t.name, t.datatype, t.shape, t.data);
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw ScoringError.badRequest(
      `input '${t.name}': expected ${n} elements for shape [${t.shape.join(',')}], got ${t.data.length}`,
    );
  }
  const dims = t.shape.slice();
  const nums = t.data as number[];
  switch (t.datatype) {
    case 'BOOL': {
      const bools = t.data as boolean[];
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = bools[i] ? 1 : 0;
      return new ort.Tensor('bool', out, dims);
    }
    case 'BYTES':
      return new ort.Tensor('string', t.data as string[], dims);
    case 'UINT8':
      return new ort.Tensor('uint8', new Uint8Array(nums), dims);
    case 'UINT16':
      return new ort.Tensor('uint16', new Uint16Array(nums), dims);
    case 'UINT32':
      return new ort.Tensor('uint32', new Uint32Array(nums), dims);
    case 'INT8':
      return new ort.Tensor('int8', new Int8Array(nums), dims);
    case 'INT16':
      return new ort.Tensor('int16', new Int16Array(nums), dims);
    case 'INT32':
      return new ort.Tensor('int32', new Int32Array(nums), dims);
    case 'FP32':
      return new ort.Tensor('float32', new Float32Array(nums), dims);
    case 'FP64':
      return new ort.Tensor('float64', new Float64Array(nums), dims);
    case 'FP16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = toHalfBits(nums[i] as number);
      return new ort.Tensor('float16', out, dims);
    }
    case 'INT64':
    case 'UINT64': {
      const out = t.datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
      if (LITTLE_ENDIAN) {
        const words = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) {
          const v = nums[i] as number;
          const hi = Math.floor(v / TWO_32); // negative v: two's complement high word
          words[2 * i] = v - hi * TWO_32;
          words[2 * i + 1] = hi; // Uint32Array stores hi modulo 2^32
        }
      } else {
        for (let i = 0; i < n; i++) out[i] = BigInt(nums[i] as number);
      }
      return out instanceof BigInt64Array ? new ort.Tensor('int64', out, dims) : new ort.Tensor('uint64', out, dims);
    }
    default:
      throw ScoringError.badRequest(`input '${t.name}': unsupported datatype ${String(t.datatype)}`);
  }
}

/** Typed-array constructors of the fixed-size datatypes, for binary data (FP16 as half bits). */
const TYPED: Record<
  keyof typeof ELEMENT_BYTES,
  [
    OrtType,
    {
      new (length: number): ArrayBufferView;
      new (buffer: ArrayBuffer, offset: number, length: number): ArrayBufferView;
    },
  ]
> = {
  BOOL: ['bool', Uint8Array],
  UINT8: ['uint8', Uint8Array],
  INT8: ['int8', Int8Array],
  UINT16: ['uint16', Uint16Array],
  INT16: ['int16', Int16Array],
  FP16: ['float16', Uint16Array],
  UINT32: ['uint32', Uint32Array],
  INT32: ['int32', Int32Array],
  FP32: ['float32', Float32Array],
  UINT64: ['uint64', BigUint64Array],
  INT64: ['int64', BigInt64Array],
  FP64: ['float64', Float64Array],
};

/**
 * An onnxruntime tensor from little-endian binary data of the right length. Bytes that fill a
 * buffer of their own (a blob read from Redis: a worker's 602 KB ResNet-50 input) are viewed
 * in place; others are copied into a fresh typed array, because a view would need them aligned
 * to the element size, which a slice of a request body or a Redis reply is not, and would keep
 * (and, sent to an inference thread, clone) the whole buffer around them.
 */
function bytesToOrtTensor(
  name: string,
  datatype: InputTensor['datatype'],
  shape: number[],
  bytes: Uint8Array,
): ort.Tensor {
  if (datatype === 'BYTES') throw ScoringError.badRequest(`input '${name}': BYTES data must be decoded to strings`);
  if (!LITTLE_ENDIAN) throw new ScoringError(500, 'binary tensor data needs a little-endian host');
  const [type, Ctor] = TYPED[datatype];
  const length = bytes.byteLength / ELEMENT_BYTES[datatype];
  const whole = wholeBuffer(bytes);
  let out: ArrayBufferView;
  if (whole) out = new Ctor(whole, 0, length);
  else {
    out = new Ctor(length);
    new Uint8Array(out.buffer).set(bytes);
  }
  return new ort.Tensor(type as 'float32', out as Float32Array, shape.slice());
}

/**
 * Converts an onnxruntime tensor (input or model output) back to wire form, with flat data.
 *
 * - int64/uint64 become JS numbers: exact within ±(2^53 - 1); beyond that, rounded to the
 *   nearest double like `Number(bigint)`, because JSON clients cannot take BigInt anyway.
 * - bool becomes booleans, float16 numbers, string strings.
 * - int4/uint4 (packed two per byte by ORT) are unpacked and widened to INT8/UINT8, the
 *   narrowest wire datatypes that hold them.
 *
 * @throws ScoringError (500) for a tensor type the wire format cannot carry.
 */
export function fromOrtTensor(name: string, t: ort.Tensor): WireTensor {
  const shape = t.dims.slice();
  const type = t.type;
  if (type === 'int4' || type === 'uint4') {
    return { name, datatype: type === 'int4' ? 'INT8' : 'UINT8', shape, data: unpackInt4(t) };
  }
  const datatype = DATATYPE_OF[type as OrtType];
  if (datatype === undefined) {
    throw new ScoringError(500, `output '${name}': unsupported onnxruntime tensor type ${type}`);
  }
  const src = t.data;
  const n = src.length;
  if (type === 'string') return { name, datatype, shape, data: (src as string[]).slice() };
  if (type === 'bool') {
    const out = new Array<boolean>(n);
    for (let i = 0; i < n; i++) out[i] = (src as Uint8Array)[i] !== 0;
    return { name, datatype, shape, data: out };
  }
  const out = new Array<number>(n);
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    if (LITTLE_ENDIAN) {
      const words = new Uint32Array(src.buffer, src.byteOffset, n * 2);
      const signed = src instanceof BigInt64Array;
      for (let i = 0; i < n; i++) {
        const w = words[2 * i + 1] as number;
        const hi = signed ? w | 0 : w; // `| 0` reinterprets the high word as signed
        out[i] = hi * TWO_32 + (words[2 * i] as number);
      }
    } else {
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
    }
  } else if (type === 'float16' && src instanceof Uint16Array) {
    // Without Float16Array, ORT hands float16 out as raw half bits.
    for (let i = 0; i < n; i++) out[i] = fromHalfBits(src[i] as number);
  } else {
    const nums = src as ArrayLike<number>; // includes a native Float16Array, where present
    for (let i = 0; i < n; i++) out[i] = Number(nums[i]);
  }
  return { name, datatype, shape, data: out };
}

/** Reads int4/uint4 values; accepts both packed (two per byte, low nibble first) and unpacked data. */
function unpackInt4(t: ort.Tensor): number[] {
  const size = elementCount(t.dims);
  const bytes = t.data as Uint8Array | Int8Array;
  const signed = t.type === 'int4';
  const out = new Array<number>(size);
  for (let i = 0; i < size; i++) {
    const raw = bytes.length === size ? (bytes[i] as number) & 0xf : ((bytes[i >> 1] as number) >> ((i & 1) * 4)) & 0xf;
    out[i] = signed && raw >= 8 ? raw - 16 : raw;
  }
  return out;
}

/**
 * IEEE 754 binary16 bits of a number, rounded to nearest, ties to even. Converts straight
 * from the double (not via float32) so halfway cases are not rounded twice. Magnitudes
 * of 65520 and above become Infinity, NaN becomes the canonical quiet NaN.
 */
export function toHalfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal, in units of 2^-24
  let e = Math.floor(Math.log2(a));
  // Math.log2 may be off by one near powers of two; correct it exactly.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const m = roundHalfEven(a * 2 ** (10 - e)); // in [1024, 2048]; 2048 carries into the exponent
  return sign | (((e + 15) << 10) + (m - 1024));
}

/** The number an IEEE 754 binary16 bit pattern stands for. */
export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** Scaling by powers of two is exact, so only this final rounding loses precision. */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // rounds .5 up
  return r - x === 0.5 && r % 2 === 1 ? r - 1 : r;
}
