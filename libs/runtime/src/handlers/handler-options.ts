// class-transformer's @Type reads decorator metadata when the class is defined.
import 'reflect-metadata';
import { Type, plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { ConfigError } from '../repository/config-error.js';

/** Options every classification handler shares. */
export class ClassificationOptions {
  /** 'text-classification' or 'image-classification'. */
  @IsString()
  kind!: string;

  /** Model input that receives the preprocessed batch. @defaultValue the model's only input */
  @IsOptional()
  @IsString()
  input?: string;

  /** Model output holding one score per class. @defaultValue the model's first output */
  @IsOptional()
  @IsString()
  output?: string;

  /** JSON array of class labels (strings, or objects with a `label` field), relative to the model directory. */
  @IsOptional()
  @IsString()
  labels?: string;

  /** Classes returned per item; a request may ask for fewer or more with `parameters.top_k`. @defaultValue 5 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  top_k = 5;

  /** `softmax` turns logits into probabilities; `none` returns the model's scores. @defaultValue 'none' */
  @IsOptional()
  @IsIn(['none', 'softmax'])
  postprocess: 'none' | 'softmax' = 'none';
}

export class TextClassificationOptions extends ClassificationOptions {
  /** Longest text accepted, in characters. @defaultValue 10000 */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_text_length = 10_000;
}

/** How images become the model's input tensor. */
export class ImageOptions {
  @IsInt()
  @Min(1)
  @Max(8192)
  width!: number;

  @IsInt()
  @Min(1)
  @Max(8192)
  height!: number;

  /** 1 (greyscale) or 3 (RGB). @defaultValue 3 */
  @IsOptional()
  @IsIn([1, 3])
  channels: 1 | 3 = 3;

  /** `fill` stretches, `cover` crops the centre, `contain` letterboxes on `background`. @defaultValue 'cover' */
  @IsOptional()
  @IsIn(['fill', 'cover', 'contain'])
  resize: 'fill' | 'cover' | 'contain' = 'cover';

  /** RGB used for letterboxing and behind transparency. @defaultValue [0, 0, 0] */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(3)
  @ArrayMaxSize(3)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(255, { each: true })
  background: number[] = [0, 0, 0];

  /**
   * Invert pixel values (255 - v) before scaling: for models trained on light-on-dark images.
   * `auto` inverts only images whose border is mostly light (photos on a white background).
   * @defaultValue false
   */
  @IsOptional()
  @IsIn([true, false, 'auto'])
  invert: boolean | 'auto' = false;

  /** @defaultValue 'NCHW' */
  @IsOptional()
  @IsIn(['NCHW', 'NHWC'])
  layout: 'NCHW' | 'NHWC' = 'NCHW';

  /** Pixel values (0..255) are multiplied by this first. @defaultValue 1/255 */
  @IsOptional()
  @IsNumber()
  scale = 1 / 255;

  /** Per-channel mean subtracted after scaling (one value, or one per channel). @defaultValue [0] */
  @IsOptional()
  @IsArray()
  @IsNumber({}, { each: true })
  mean: number[] = [0];

  /** Per-channel standard deviation divided by after the mean. @defaultValue [1] */
  @IsOptional()
  @IsArray()
  @IsNumber({}, { each: true })
  std: number[] = [1];

  /** Larger images are refused before decoding (decompression bombs). @defaultValue 40000000 */
  @IsOptional()
  @IsInt()
  @Min(1)
  max_input_pixels = 40_000_000;
}

export class ImageClassificationOptions extends ClassificationOptions {
  @ValidateNested()
  @Type(() => ImageOptions)
  image!: ImageOptions;
}

/** Validates a model's `handler` block; throws ConfigError naming model and field. */
export function parseHandlerOptions<T extends object>(cls: new () => T, raw: unknown, model: string): T {
  const options = plainToInstance(cls, raw, { exposeDefaultValues: true });
  const errors = validateSync(options, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const flat = (e: (typeof errors)[number], path: string): string[] => [
      ...Object.values(e.constraints ?? {}).map((m) => `${path}${e.property}: ${m}`),
      ...(e.children ?? []).flatMap((c) => flat(c, `${path}${e.property}.`)),
    ];
    const problems = errors.flatMap((e) => flat(e, 'handler.'));
    throw new ConfigError(`model '${model}': invalid handler options:\n  - ${problems.join('\n  - ')}`);
  }
  return options;
}
