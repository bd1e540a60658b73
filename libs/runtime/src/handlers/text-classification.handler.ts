import * as ort from 'onnxruntime-node';
import { ScoringError, type ScoringJob } from '../../../contracts/src/index.js';
import { ConfigError } from '../repository/config-error.js';
import type { LoadedModel } from '../session/loaded-model.js';
import { ClassificationHandler } from './classification-handler.js';
import { parseHandlerOptions, TextClassificationOptions } from './handler-options.js';

/** Friendly payload of a text job. */
export interface TextPayload {
  texts: string[];
}

/**
 * Text in, ranked classes out (e.g. FAQ matching: the labels file carries each entry's
 * question and answer). The model takes a string tensor of shape [N] or [N, 1].
 */
export class TextClassificationHandler extends ClassificationHandler<TextClassificationOptions> {
  static async create(model: LoadedModel): Promise<TextClassificationHandler> {
    const options = parseHandlerOptions(TextClassificationOptions, model.config.handler, model.name);
    return new TextClassificationHandler(model, options).init();
  }

  private constructor(model: LoadedModel, options: TextClassificationOptions) {
    super(model, options);
    const inner = this.inputSpec.shape.slice(1);
    if (
      this.inputSpec.datatype !== 'BYTES' ||
      inner.length > 1 ||
      (inner.length === 1 && inner[0] !== 1 && inner[0] !== -1)
    ) {
      throw new ConfigError(
        `model '${model.name}': text-classification needs a BYTES input of shape [-1] or [-1, 1]; ` +
          `'${this.inputSpec.name}' is ${this.inputSpec.datatype} [${this.inputSpec.shape.join(', ')}]`,
      );
    }
  }

  protected async encode(job: ScoringJob): Promise<{ tensor: ort.Tensor; rows: number }> {
    const texts = (job.payload as Partial<TextPayload> | undefined)?.texts;
    if (!Array.isArray(texts) || texts.length === 0)
      throw ScoringError.badRequest('texts: at least one text is required');
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw ScoringError.badRequest(`texts[${i}]: must be a string`);
      if (t.length > this.options.max_text_length) {
        throw ScoringError.badRequest(`texts[${i}]: longer than ${this.options.max_text_length} characters`);
      }
    });
    const dims = this.inputSpec.shape.length === 2 ? [texts.length, 1] : [texts.length];
    return { tensor: new ort.Tensor('string', texts, dims), rows: texts.length };
  }
}
