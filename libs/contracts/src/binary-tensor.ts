import type { Datatype } from './datatype.js';

/*
 * Layout of the binary tensor data extension of the Open Inference Protocol (Triton's and
 * KServe's), shared by the server and the client: little-endian, row-major, no padding; BOOL
 * one byte (0 or 1) per element; BYTES a 4-byte little-endian length and the bytes, each.
 */

/** Header giving the length of the JSON that starts a binary request or response body. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/** Bytes per element of the fixed-size datatypes. */
export const ELEMENT_BYTES: Readonly<Record<Exclude<Datatype, 'BYTES'>, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** BYTES elements in binary form. */
export function encodeBytesElements(values: readonly string[]): Buffer {
  const parts = values.map((v) => Buffer.from(v, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((sum, p) => sum + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/**
 * BYTES elements read from binary form, as UTF-8 strings.
 *
 * @throws Error naming the element whose length or bytes run past the end.
 */
export function decodeBytesElements(bytes: Uint8Array): string[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = 0;
  while (at < view.length) {
    if (at + 4 > view.length) throw new Error(`BYTES element ${out.length}: its 4-byte length runs past the end`);
    const len = view.readUInt32LE(at);
    at += 4;
    if (at + len > view.length) throw new Error(`BYTES element ${out.length}: its ${len} bytes run past the end`);
    out.push(view.toString('utf8', at, at + len));
    at += len;
  }
  return out;
}
