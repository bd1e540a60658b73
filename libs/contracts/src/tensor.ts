import type { Datatype } from './datatype.js';

/** Flat, row-major tensor data as it travels in JSON and in job payloads. */
export type TensorData = number[] | boolean[] | string[];

/**
 * A tensor as the Open Inference Protocol carries it, with its data already flattened.
 * This is both the job payload form and the response form.
 */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
  parameters?: Record<string, unknown>;
}

/**
 * A request input as a job carries it. `data` is flat JSON-style data, or, for a tensor sent
 * with the binary tensor data extension (marked by `parameters.binary_data_size`), its raw
 * little-endian bytes: a `Uint8Array` in process, a blob or base64 text in Redis
 * (job-blobs.ts). BYTES tensors are decoded to strings by the API and travel as JSON.
 */
export interface InputTensor extends Omit<WireTensor, 'data'> {
  data: TensorData | Uint8Array;
}

/** Declared signature of one model input or output. `-1` marks a variable dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}
