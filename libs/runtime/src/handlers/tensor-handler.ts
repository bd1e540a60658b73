import { ScoringError, type ScoringJob } from '../../../contracts/src/index.js';
import type { LoadedModel, TensorMap } from '../session/loaded-model.js';
import { validateInputs } from '../tensor/request-validation.js';
import { fromOrtTensor, rowSignature, toOrtTensor } from '../tensor/tensor-codec.js';
import type { HandledOutput, ModelHandler, PreparedItem } from './model-handler.js';

/** Open Inference Protocol tensors in, tensors out: the handler every model has. */
export class TensorHandler implements ModelHandler {
  constructor(private readonly model: LoadedModel) {}

  async prepare(job: ScoringJob): Promise<PreparedItem> {
    if (!job.inputs) throw ScoringError.badRequest('inputs: required');
    const { inputs, rows } = validateInputs(this.model.metadata, job.inputs);
    const feeds: TensorMap = {};
    for (const t of inputs) feeds[t.name] = toOrtTensor(t);
    return { feeds, rows, signature: inputs.map(rowSignature).join('|') };
  }

  finish(job: ScoringJob, outputs: TensorMap): HandledOutput {
    const wanted = job.parameters?.outputs;
    const names = wanted ?? this.model.signature.outputs.map((s) => s.name);
    return { outputs: names.map((name) => fromOrtTensor(name, outputs[name]!)) };
  }
}
