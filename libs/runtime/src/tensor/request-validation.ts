import {
  isDatatype,
  ScoringError,
  type InputTensor,
  type ModelMetadata,
  type TensorSpec,
} from '../../../contracts/src/index.js';
import { binaryDataSize, binaryTensorData } from './binary-data.js';
import { flattenTensorData } from './flatten-data.js';

/** An OIP request input before validation: anything a client may have sent. */
export interface RawInput {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: unknown;
}

/** Validated request tensors and the rows they add to a batch. */
export interface ValidatedInputs {
  /** Flat data; binary inputs of fixed-size datatypes keep their bytes (binary-data.ts). */
  inputs: InputTensor[];
  /** Batch rows (first dimension) when the model batches; 1 otherwise. */
  rows: number;
}

type Signature = Pick<ModelMetadata, 'name' | 'inputs' | 'outputs' | 'maxBatchSize'>;

/**
 * Checks request inputs against a model's signature and flattens their data: every input
 * present once, datatypes equal, shapes compatible, one batch size across inputs within
 * `max_batch_size`. The API runs it before enqueueing; the worker runs it again because jobs
 * may come from other producers.
 */
export function validateInputs(model: Signature, raw: readonly RawInput[]): ValidatedInputs {
  if (raw.length === 0) throw ScoringError.badRequest('inputs: at least one input is required');
  const seen = new Set<string>();
  const inputs: InputTensor[] = [];
  let rows: number | undefined;
  for (const [i, input] of raw.entries()) {
    const name = input.name;
    if (typeof name !== 'string' || name === '')
      throw ScoringError.badRequest(`inputs[${i}].name: must be a non-empty string`);
    const spec = model.inputs.find((s) => s.name === name);
    if (!spec) {
      throw ScoringError.badRequest(
        `input '${name}': model '${model.name}' has no such input (inputs: ${model.inputs.map((s) => s.name).join(', ')})`,
      );
    }
    if (seen.has(name)) throw ScoringError.badRequest(`input '${name}': given more than once`);
    seen.add(name);
    if (!isDatatype(input.datatype))
      throw ScoringError.badRequest(`input '${name}': unknown datatype ${JSON.stringify(input.datatype)}`);
    if (input.datatype !== spec.datatype) {
      throw ScoringError.badRequest(
        `input '${name}': datatype ${input.datatype} does not match the model's ${spec.datatype}`,
      );
    }
    const shape = checkShape(name, spec, input.shape, model.maxBatchSize);
    if (model.maxBatchSize > 0) {
      if (rows !== undefined && shape[0] !== rows) {
        throw ScoringError.badRequest(`input '${name}': batch size ${shape[0]} differs from the other inputs' ${rows}`);
      }
      rows = shape[0]!;
    }
    const binarySize = binaryDataSize(`input '${name}'`, input.parameters);
    if (binarySize === undefined) {
      inputs.push({
        name,
        datatype: spec.datatype,
        shape,
        data: flattenTensorData(name, spec.datatype, shape, input.data),
      });
      continue;
    }
    const data = binaryTensorData(name, spec.datatype, shape, input.data, binarySize);
    // Bytes keep their marker, so the worker reads them as bytes; BYTES strings are plain data.
    const parameters = data instanceof Uint8Array ? { binary_data_size: binarySize } : undefined;
    inputs.push({ name, datatype: spec.datatype, shape, data, parameters });
  }
  const missing = model.inputs.filter((s) => !seen.has(s.name)).map((s) => s.name);
  if (missing.length > 0) throw ScoringError.badRequest(`inputs: missing ${missing.map((m) => `'${m}'`).join(', ')}`);
  return { inputs, rows: rows ?? 1 };
}

function checkShape(name: string, spec: TensorSpec, shape: unknown, maxBatchSize: number): number[] {
  const expected = `[${spec.shape.join(', ')}]`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw ScoringError.badRequest(
      `input '${name}': shape must be an array of non-negative integers (model shape ${expected})`,
    );
  }
  const dims = shape as number[];
  const fits = dims.length === spec.shape.length && dims.every((d, k) => spec.shape[k] === -1 || spec.shape[k] === d);
  if (!fits)
    throw ScoringError.badRequest(
      `input '${name}': shape [${dims.join(', ')}] does not match the model shape ${expected}`,
    );
  if (maxBatchSize > 0) {
    if (dims[0] === 0) throw ScoringError.badRequest(`input '${name}': empty batch (shape[0] is 0)`);
    if (dims[0]! > maxBatchSize) {
      throw ScoringError.badRequest(
        `input '${name}': batch of ${dims[0]} rows exceeds the model's max_batch_size ${maxBatchSize}`,
      );
    }
  }
  return dims;
}

/** Checks requested output names; returns them, or undefined for all outputs. */
export function validateOutputNames(model: Signature, requested: unknown): string[] | undefined {
  if (requested === undefined || requested === null) return undefined;
  if (!Array.isArray(requested)) throw ScoringError.badRequest('outputs: must be an array of {name}');
  return requested.map((o: unknown, i) => {
    const name = (o as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw ScoringError.badRequest(`outputs[${i}].name: must be a string`);
    if (!model.outputs.some((s) => s.name === name)) {
      throw ScoringError.badRequest(
        `output '${name}': model '${model.name}' has no such output (outputs: ${model.outputs.map((s) => s.name).join(', ')})`,
      );
    }
    return name;
  });
}
