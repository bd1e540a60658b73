import type * as ort from 'onnxruntime-node';
import { ScoringError, type ScoringJob, type TensorSpec } from '../../../contracts/src/index.js';
import { ConfigError } from '../repository/config-error.js';
import type { LoadedModel, TensorMap } from '../session/loaded-model.js';
import { loadLabels, softmax, topK, type ClassLabel, type RankedClass } from './class-labels.js';
import type { ClassificationOptions } from './handler-options.js';
import type { HandledOutput, ModelHandler, PreparedItem } from './model-handler.js';

/** One item's prediction in a friendly response. */
export interface Prediction {
  /** The best class's label and score. */
  label: string;
  score: number;
  /** The `top_k` best classes, best first, with what the labels file says of each. */
  top_k: RankedClass[];
}

/**
 * Shared by the text and image classifiers: the model input that takes the encoded items,
 * the output with one score per class, labels, and top-k. Subclasses only encode items.
 */
export abstract class ClassificationHandler<O extends ClassificationOptions> implements ModelHandler {
  protected readonly inputSpec: TensorSpec;
  protected readonly outputName: string;
  private readonly classCount: number;
  private labels: ClassLabel[] | undefined;

  protected constructor(
    protected readonly model: LoadedModel,
    protected readonly options: O,
  ) {
    const { inputs, outputs } = model.signature;
    if (!options.input && inputs.length !== 1) {
      throw new ConfigError(`model '${model.name}': handler.input is required: the model has ${inputs.length} inputs`);
    }
    const input = options.input ? inputs.find((s) => s.name === options.input) : inputs[0];
    if (!input) throw new ConfigError(`model '${model.name}': handler.input '${options.input}' is not a model input`);
    const output = options.output ? outputs.find((s) => s.name === options.output) : outputs[0];
    if (!output)
      throw new ConfigError(`model '${model.name}': handler.output '${options.output}' is not a model output`);
    if (model.config.max_batch_size === 0) {
      throw new ConfigError(
        `model '${model.name}': classification handlers need a batching model (max_batch_size > 0)`,
      );
    }
    this.inputSpec = input;
    this.outputName = output.name;
    this.classCount = output.shape[output.shape.length - 1]!;
  }

  /** Loads the labels file and checks it has one label per class. */
  protected async init(): Promise<this> {
    if (this.options.labels) {
      this.labels = await loadLabels(this.model.dir, this.options.labels, this.model.name);
      if (this.classCount > 0 && this.labels.length !== this.classCount) {
        throw new ConfigError(
          `model '${this.model.name}': ${this.options.labels} has ${this.labels.length} labels, the model outputs ${this.classCount} classes`,
        );
      }
    }
    return this;
  }

  /** Encodes the job's items into the model input tensor; returns it with the row count. */
  protected abstract encode(job: ScoringJob): Promise<{ tensor: ort.Tensor; rows: number }>;

  async prepare(job: ScoringJob): Promise<PreparedItem> {
    const { tensor, rows } = await this.encode(job);
    if (rows > this.model.config.max_batch_size) {
      throw ScoringError.badRequest(
        `${rows} items exceed the model's max_batch_size ${this.model.config.max_batch_size}`,
      );
    }
    return { feeds: { [this.inputSpec.name]: tensor }, rows, signature: tensor.dims.slice(1).join('x') };
  }

  finish(job: ScoringJob, outputs: TensorMap): HandledOutput {
    const scores = outputs[this.outputName]!;
    const k = requestedTopK(job, this.options.top_k);
    const rows = scores.dims[0]!;
    const width = scores.size / rows;
    const data = scores.data as Float32Array;
    const predictions: Prediction[] = [];
    for (let r = 0; r < rows; r++) {
      const row = data.subarray(r * width, (r + 1) * width);
      const ranked = topK(this.options.postprocess === 'softmax' ? softmax(row) : row, k, this.labels);
      predictions.push({ label: ranked[0]!.label, score: ranked[0]!.score, top_k: ranked });
    }
    return { result: predictions };
  }
}

function requestedTopK(job: ScoringJob, fallback: number): number {
  const k = job.parameters?.top_k;
  if (k === undefined) return fallback;
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > 1000) {
    throw ScoringError.badRequest('parameters.top_k: must be an integer from 1 to 1000');
  }
  return k as number;
}
