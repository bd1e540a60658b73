import type { InferenceSession } from 'onnxruntime-node';
import { DATATYPE_OF, type OrtType, type TensorSpec } from '../../../contracts/src/index.js';
import { ConfigError } from '../repository/config-error.js';
import type { ModelConfig, TensorDeclaration } from '../repository/model-config.js';

/** The inputs and outputs a model serves, as full OIP shapes (batch dimension included). */
export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * Derives the served signature from the session's own metadata and checks the config's
 * declarations against it, so a config that disagrees with its model never serves.
 */
export function deriveSignature(
  file: string,
  config: ModelConfig,
  session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>,
): ModelSignature {
  const batching = config.max_batch_size > 0;
  const inputs = session.inputMetadata.map((m) => specOf(file, 'input', m, batching));
  const outputs = session.outputMetadata.map((m) => specOf(file, 'output', m, batching));
  if (config.input) checkDeclared(file, 'input', config.input, inputs, batching);
  if (config.output) checkDeclared(file, 'output', config.output, outputs, batching);
  return { inputs, outputs };
}

function specOf(file: string, role: string, meta: InferenceSession.ValueMetadata, batching: boolean): TensorSpec {
  if (!meta.isTensor) throw new ConfigError(`${file}: ${role} '${meta.name}' is not a tensor; only tensors are served`);
  const datatype = DATATYPE_OF[meta.type as OrtType];
  if (!datatype) throw new ConfigError(`${file}: ${role} '${meta.name}' has unsupported type ${meta.type}`);
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  if (batching) {
    if (shape.length === 0) {
      throw new ConfigError(
        `${file}: max_batch_size > 0 but ${role} '${meta.name}' is a scalar with no batch dimension`,
      );
    }
    if (shape[0] !== -1) {
      throw new ConfigError(
        `${file}: max_batch_size > 0 but ${role} '${meta.name}' has a fixed first dimension ${shape[0]}; ` +
          'export the model with a dynamic batch axis or set max_batch_size: 0',
      );
    }
  }
  return { name: meta.name, datatype, shape };
}

function checkDeclared(
  file: string,
  role: 'input' | 'output',
  declared: TensorDeclaration[],
  actual: TensorSpec[],
  batching: boolean,
): void {
  const names = new Set(declared.map((d) => d.name));
  for (const spec of actual) {
    if (!names.has(spec.name))
      throw new ConfigError(`${file}: config ${role} does not declare the model's ${role} '${spec.name}'`);
  }
  declared.forEach((decl, i) => {
    const field = `${role}[${i}]`;
    const spec = actual.find((s) => s.name === decl.name);
    if (!spec) {
      throw new ConfigError(
        `${file}: ${field}.name: the model has no ${role} '${decl.name}' (it has ${actual.map((s) => s.name).join(', ')})`,
      );
    }
    if (spec.datatype !== decl.datatype) {
      throw new ConfigError(`${file}: ${field}.datatype: declared ${decl.datatype}, the model says ${spec.datatype}`);
    }
    const modelDims = batching ? spec.shape.slice(1) : spec.shape;
    const compatible =
      modelDims.length === decl.dims.length &&
      modelDims.every((d, k) => d === -1 || decl.dims[k] === -1 || d === decl.dims[k]);
    if (!compatible) {
      throw new ConfigError(
        `${file}: ${field}.dims: declared [${decl.dims.join(', ')}], the model says [${modelDims.join(', ')}]` +
          (batching ? ' (dims exclude the batch dimension when max_batch_size > 0)' : ''),
      );
    }
    // A declaration may pin a variable model dimension; serve the narrower shape.
    const pinned = decl.dims.map((d, k) => (d === -1 ? modelDims[k]! : d));
    spec.shape = batching ? [-1, ...pinned] : pinned;
  });
}
