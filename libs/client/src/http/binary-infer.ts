import {
  decodeBytesElements,
  encodeBytesElements,
  type Datatype,
  type WireTensor,
} from '../../../contracts/src/index.js';

/** Tensor data in binary form: a typed array in the datatype's layout, or strings for BYTES. */
export type BinaryTensorData = ArrayBufferView | string[];

/**
 * An input sent as binary data. The typed array must match the datatype: Float32Array for
 * FP32, BigInt64Array for INT64, Uint8Array of 0/1 for BOOL, Uint16Array of half bits for FP16.
 */
export interface BinaryInput {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: BinaryTensorData;
}

/** OIP request of `inferBinary`: every input travels as binary, every output comes back so. */
export interface BinaryInferRequest {
  id?: string;
  inputs: BinaryInput[];
  /** Outputs to return; all when absent. */
  outputs?: { name: string }[];
  parameters?: Record<string, unknown>;
}

/** OIP answer of `inferBinary`: outputs with typed-array (or string) data. */
export interface BinaryInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: (Omit<WireTensor, 'data'> & { data: BinaryTensorData })[];
}

/** Body of a binary request: the JSON, then each input's bytes in order. */
export function encodeBinaryInfer(request: BinaryInferRequest): { body: Buffer; jsonLength: number } {
  const parts = request.inputs.map((t) => tensorBytes(t.data));
  const json = Buffer.from(
    JSON.stringify({
      ...request,
      inputs: request.inputs.map((t, i) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape,
        parameters: { binary_data_size: parts[i]!.length },
      })),
      outputs: request.outputs?.map((o) => ({ ...o, parameters: { binary_data: true } })),
      parameters: { ...request.parameters, binary_data_output: true },
    }),
    'utf8',
  );
  return { body: Buffer.concat([json, ...parts]), jsonLength: json.length };
}

/** Reads a binary response: outputs with `binary_data_size` take their bytes in order. */
export function decodeBinaryInfer(body: Buffer, jsonLength: number): BinaryInferResponse {
  const response = JSON.parse(body.toString('utf8', 0, jsonLength)) as BinaryInferResponse;
  let at = jsonLength;
  for (const o of response.outputs) {
    const size = (o.parameters as { binary_data_size?: number } | undefined)?.binary_data_size;
    if (size === undefined) continue;
    o.data = typedData(o.datatype, body.subarray(at, at + size));
    at += size;
  }
  return response;
}

function tensorBytes(data: BinaryTensorData): Buffer {
  if (Array.isArray(data)) return encodeBytesElements(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const ARRAYS: Record<Exclude<Datatype, 'BYTES'>, { new (b: ArrayBuffer): ArrayBufferView }> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  FP16: Uint16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};

/** The bytes as a typed array of the datatype (copied: a slice of a body is not aligned). */
function typedData(datatype: Datatype, bytes: Buffer): BinaryTensorData {
  if (datatype === 'BYTES') return decodeBytesElements(bytes);
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new ARRAYS[datatype](copy);
}
