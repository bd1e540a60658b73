import sharp, { type SharpOptions } from 'sharp';
import { ScoringError } from '../../../contracts/src/index.js';
import type { ImageOptions } from './handler-options.js';
import { isSrgbProfile } from './icc-profile.js';

/** Formats accepted as images; anything else sharp could read (SVG, PDF, ...) is refused. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

/**
 * Decodes one image and turns it into the model's input layout: EXIF orientation applied,
 * transparency flattened on the background, converted to the model's channel count, resized,
 * inverted if asked, scaled and normalised. Writes into `out` at `offset`.
 */
export async function decodeImageInto(
  bytes: Buffer,
  options: ImageOptions,
  out: Float32Array,
  offset: number,
  label: string,
): Promise<void> {
  const { width, height, channels } = options;
  let pixels: Buffer;
  try {
    const input: SharpOptions = {
      limitInputPixels: options.max_input_pixels,
      failOn: 'error',
      autoOrient: true,
      animated: false,
    };
    let image = sharp(bytes, input);
    const meta = await image.metadata();
    if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
      throw new ScoringError(
        415,
        `${label}: ${meta.format ?? 'unknown'} images are not accepted (JPEG, PNG, WebP, GIF, TIFF)`,
      );
    }
    // An sRGB profile converts to sRGB unchanged: skip the transform (see isSrgbProfile).
    if (isSrgbProfile(meta.icc)) image = sharp(bytes, { ...input, ignoreIcc: true });
    const [r, g, b] = options.background as [number, number, number];
    let pipeline = image.flatten({ background: { r, g, b } }).resize(width, height, {
      fit: options.resize,
      position: 'centre',
      background: { r, g, b, alpha: 1 },
    });
    pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    const result = await pipeline.raw().toBuffer({ resolveWithObject: true });
    pixels = channels === 1 ? firstChannel(result.data, result.info.channels) : result.data;
  } catch (err) {
    if (err instanceof ScoringError) throw err;
    throw imageError(label, err as Error);
  }
  if (pixels.length !== width * height * channels) {
    throw ScoringError.badRequest(
      `${label}: decoded to ${pixels.length} values, expected ${width * height * channels}`,
    );
  }
  normalise(pixels, options, out, offset);
}

function firstChannel(data: Buffer, channels: number): Buffer {
  if (channels === 1) return data;
  const out = Buffer.alloc(data.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = data[i * channels]!;
  return out;
}

function normalise(pixels: Buffer, o: ImageOptions, out: Float32Array, offset: number): void {
  const { width, height, channels } = o;
  const plane = width * height;
  const invert = o.invert === 'auto' ? borderIsLight(pixels, width, height, channels) : o.invert;
  for (let c = 0; c < channels; c++) {
    const mean = o.mean[c] ?? o.mean[0]!;
    const std = o.std[c] ?? o.std[0]!;
    for (let p = 0; p < plane; p++) {
      const raw = pixels[p * channels + c]!;
      const v = ((invert ? 255 - raw : raw) * o.scale - mean) / std;
      out[offset + (o.layout === 'NCHW' ? c * plane + p : p * channels + c)] = v;
    }
  }
}

/** True when the outermost pixels average brighter than mid-grey: a light background. */
function borderIsLight(pixels: Buffer, width: number, height: number, channels: number): boolean {
  let sum = 0;
  let n = 0;
  for (let x = 0; x < width; x++) {
    for (const y of [0, height - 1]) {
      for (let c = 0; c < channels; c++) sum += pixels[(y * width + x) * channels + c]!;
      n += channels;
    }
  }
  for (let y = 1; y < height - 1; y++) {
    for (const x of [0, width - 1]) {
      for (let c = 0; c < channels; c++) sum += pixels[(y * width + x) * channels + c]!;
      n += channels;
    }
  }
  return sum / n > 127;
}

function imageError(label: string, err: Error): ScoringError {
  const msg = err.message;
  if (/pixel limit/i.test(msg)) return new ScoringError(413, `${label}: image dimensions exceed the limit (${msg})`);
  if (/unsupported image format/i.test(msg))
    return new ScoringError(415, `${label}: not an image in a supported format`);
  return ScoringError.badRequest(`${label}: cannot decode image (corrupt or truncated): ${msg}`);
}
