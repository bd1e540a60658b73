import * as ort from 'onnxruntime-node';
import { ScoringError, type ScoringJob } from '../../../contracts/src/index.js';
import { ConfigError } from '../repository/config-error.js';
import type { LoadedModel } from '../session/loaded-model.js';
import { ClassificationHandler } from './classification-handler.js';
import { ImageClassificationOptions, parseHandlerOptions } from './handler-options.js';
import { decodeImageInto } from './image-decoder.js';

/** Friendly payload of an image job: image files, as bytes or base64 text. */
export interface ImagePayload {
  images: (Uint8Array | string)[];
}

/**
 * Image files in, ranked classes out. Decoding and resizing run here in the worker, per
 * image and concurrently (sharp uses libvips' own threads), before the batcher.
 */
export class ImageClassificationHandler extends ClassificationHandler<ImageClassificationOptions> {
  private readonly itemSize: number;
  private readonly itemDims: number[];

  static async create(model: LoadedModel): Promise<ImageClassificationHandler> {
    const options = parseHandlerOptions(ImageClassificationOptions, model.config.handler, model.name);
    return new ImageClassificationHandler(model, options).init();
  }

  private constructor(model: LoadedModel, options: ImageClassificationOptions) {
    super(model, options);
    const { width, height, channels, layout } = options.image;
    this.itemDims = layout === 'NCHW' ? [channels, height, width] : [height, width, channels];
    this.itemSize = width * height * channels;
    const inner = this.inputSpec.shape.slice(1);
    const fits =
      this.inputSpec.datatype === 'FP32' &&
      inner.length === 3 &&
      inner.every((d, i) => d === -1 || d === this.itemDims[i]);
    if (!fits) {
      throw new ConfigError(
        `model '${model.name}': handler.image gives [N, ${this.itemDims.join(', ')}] FP32 but input '${this.inputSpec.name}' ` +
          `is ${this.inputSpec.datatype} [${this.inputSpec.shape.join(', ')}]`,
      );
    }
  }

  protected async encode(job: ScoringJob): Promise<{ tensor: ort.Tensor; rows: number }> {
    const images = (job.payload as Partial<ImagePayload> | undefined)?.images;
    if (!Array.isArray(images) || images.length === 0)
      throw ScoringError.badRequest('images: at least one image is required');
    const data = new Float32Array(images.length * this.itemSize);
    await Promise.all(
      images.map((image, i) => {
        const bytes =
          typeof image === 'string'
            ? Buffer.from(image, 'base64')
            : image instanceof Uint8Array
              ? Buffer.from(image.buffer, image.byteOffset, image.byteLength)
              : undefined;
        if (!bytes) throw ScoringError.badRequest(`images[${i}]: must be bytes or base64 text`);
        return decodeImageInto(bytes, this.options.image, data, i * this.itemSize, `images[${i}]`);
      }),
    );
    return { tensor: new ort.Tensor('float32', data, [images.length, ...this.itemDims]), rows: images.length };
  }
}
