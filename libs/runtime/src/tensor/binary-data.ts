import { decodeBytesElements, ELEMENT_BYTES, ScoringError, type Datatype } from '../../../contracts/src/index.js';
import { elementCount } from './flatten-data.js';

/**
 * `parameters.binary_data_size` of an input or output, when present.
 *
 * @throws ScoringError (400) when it is present but not a non-negative integer.
 */
export function binaryDataSize(what: string, parameters: unknown): number | undefined {
  if (typeof parameters !== 'object' || parameters === null) return undefined;
  const size = (parameters as { binary_data_size?: unknown }).binary_data_size;
  if (size === undefined) return undefined;
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw ScoringError.badRequest(`${what}: parameters.binary_data_size must be a non-negative integer`);
  }
  return size as number;
}

/**
 * Checks one input's binary data (layout: contracts' binary-tensor.ts) against its datatype
 * and shape. Returns the bytes for the fixed-size datatypes (a job carries them as they are),
 * and the decoded strings for BYTES. `data` is a Uint8Array (the API's parsed body, a blob
 * read back) or base64 text (small binary data inside a job read from Redis). FP values are
 * not checked: their bits go to the model as sent, as Triton does. `size` is the input's
 * `binary_data_size`.
 *
 * @throws ScoringError (400) naming the input for a size that does not match, a BOOL byte
 *   other than 0 or 1, or a BYTES element running past the end.
 */
export function binaryTensorData(
  name: string,
  datatype: Datatype,
  shape: number[],
  data: unknown,
  size: number,
): Uint8Array | string[] {
  const fail = (msg: string): ScoringError => ScoringError.badRequest(`input '${name}': ${msg}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : data;
  if (!(bytes instanceof Uint8Array)) {
    throw fail(
      'parameters.binary_data_size is set, but the data is not in a binary body (Content-Type: application/octet-stream with an Inference-Header-Content-Length header)',
    );
  }
  if (bytes.byteLength !== size) {
    throw fail(`parameters.binary_data_size is ${size}, but ${bytes.byteLength} bytes of data came`);
  }
  const n = elementCount(shape);
  if (datatype === 'BYTES') return splitBytesElements(fail, bytes, n);
  const expected = n * ELEMENT_BYTES[datatype];
  if (bytes.byteLength !== expected) {
    throw fail(
      `binary data of ${bytes.byteLength} bytes does not fit shape [${shape.join(',')}] of ${datatype} (${expected} bytes)`,
    );
  }
  if (datatype === 'BOOL') {
    const bad = bytes.findIndex((b) => b > 1);
    if (bad >= 0) throw fail(`BOOL element ${bad} is byte ${bytes[bad]}; binary BOOL elements are 0 or 1`);
  }
  return bytes;
}

function splitBytesElements(fail: (msg: string) => ScoringError, bytes: Uint8Array, n: number): string[] {
  let out: string[];
  try {
    out = decodeBytesElements(bytes);
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (out.length !== n) throw fail(`binary data holds ${out.length} BYTES elements, the shape needs ${n}`);
  return out;
}
