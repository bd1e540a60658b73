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

/** Declared signature of one model input or output. `-1` marks a variable dimension. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}
