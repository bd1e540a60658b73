import { ValidationPipe } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { PredictRequestDto } from './predict-request.dto.js';

/** What a friendly request carries once its content type is understood. */
export interface FriendlyInput {
  texts?: string[];
  /** Image files (checked to be images). */
  images?: Buffer[];
  topK?: number;
  timeoutMs?: number;
  priority?: number;
  /** `parameters.callback_url`: webhook of an async request. */
  callbackUrl?: string;
}

const dtoPipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

/**
 * Reads a friendly request in any of its forms: JSON (`text`, `texts`, `image`, `images`),
 * `multipart/form-data` with image files and/or `text` fields, or raw bytes with an
 * `image/*` content type. Images are checked to be images before anything is enqueued.
 */
export async function readFriendlyInput(req: FastifyRequest, maxFiles: number): Promise<FriendlyInput> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('image/')) {
    return { images: [checkedImage(req.body as Buffer, 'body')] };
  }
  if (req.isMultipart()) return readMultipart(req, maxFiles);
  if (type !== 'application/json') {
    throw new ScoringError(
      415,
      `unsupported content type '${type || 'none'}': send JSON, multipart/form-data or image/*`,
    );
  }
  const common = commonTextBody(req.body);
  if (common) return common;
  const dto = (await dtoPipe.transform(req.body ?? {}, {
    type: 'body',
    metatype: PredictRequestDto,
  })) as PredictRequestDto;
  const given = (['text', 'texts', 'image', 'images'] as const).filter((k) => dto[k] !== undefined);
  if (given.length !== 1) {
    throw ScoringError.badRequest(`give exactly one of text, texts, image, images (got ${given.join(', ') || 'none'})`);
  }
  const images = dto.image !== undefined ? [dto.image] : dto.images;
  return {
    texts: dto.text !== undefined ? [dto.text] : dto.texts,
    images: images?.map((b64, i) =>
      checkedImage(decodeBase64(b64, images.length > 1 ? `images[${i}]` : 'image'), `images[${i}]`),
    ),
    topK: dto.parameters?.top_k,
    timeoutMs: dto.parameters?.timeout_ms,
    priority: dto.parameters?.priority,
    callbackUrl: dto.parameters?.callback_url,
  };
}

/** Longest `text`, as PredictRequestDto allows. */
const MAX_TEXT = 1_000_000;
/** Most `texts`, as PredictRequestDto allows. */
const MAX_TEXTS = 4096;

/**
 * The two commonest bodies, `{"text": "..."}` and `{"texts": ["...", ...]}`, checked directly:
 * class-transformer and class-validator cost ~15% of the API's CPU per text request. Only
 * bodies PredictRequestDto accepts as they are pass (a property test holds the two to that);
 * anything else, including every invalid body, goes through the ValidationPipe and its errors.
 */
export function commonTextBody(body: unknown): FriendlyInput | undefined {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const keys = Object.keys(body);
  if (keys.length !== 1) return undefined;
  const { text, texts } = body as { text?: unknown; texts?: unknown };
  if (keys[0] === 'text') return typeof text === 'string' && text.length <= MAX_TEXT ? { texts: [text] } : undefined;
  if (keys[0] !== 'texts' || !Array.isArray(texts) || texts.length < 1 || texts.length > MAX_TEXTS) return undefined;
  for (let i = 0; i < texts.length; i++) if (typeof texts[i] !== 'string') return undefined;
  return { texts: texts as string[] };
}

async function readMultipart(req: FastifyRequest, maxFiles: number): Promise<FriendlyInput> {
  const images: Buffer[] = [];
  const texts: string[] = [];
  let topK: number | undefined;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (images.length >= maxFiles) throw ScoringError.badRequest(`more than ${maxFiles} files`);
      const bytes = await part.toBuffer();
      images.push(checkedImage(bytes, part.filename || part.fieldname));
    } else if (part.fieldname === 'text' || part.fieldname === 'texts') {
      texts.push(String(part.value));
    } else if (part.fieldname === 'top_k') {
      topK = Number(part.value);
      if (!Number.isInteger(topK) || topK < 1) throw ScoringError.badRequest('top_k: must be a positive integer');
    } else {
      throw ScoringError.badRequest(`unexpected form field '${part.fieldname}' (send files, 'text' or 'top_k')`);
    }
  }
  if (images.length > 0 && texts.length > 0)
    throw ScoringError.badRequest('send either image files or text fields, not both');
  if (images.length === 0 && texts.length === 0)
    throw ScoringError.badRequest('the form has no image file and no text field');
  return images.length > 0 ? { images, topK } : { texts, topK };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(value: string, label: string): Buffer {
  const comma = value.startsWith('data:') ? value.indexOf(',') : -1;
  const b64 = (comma >= 0 ? value.slice(comma + 1) : value).replace(/\s+/g, '');
  if (b64.length === 0 || b64.length % 4 !== 0 || !BASE64.test(b64))
    throw ScoringError.badRequest(`${label}: invalid base64`);
  return Buffer.from(b64, 'base64');
}

/** Checks the file signature of an accepted image format; returns the bytes. */
function checkedImage(bytes: Buffer | undefined, label: string): Buffer {
  if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw ScoringError.badRequest(`${label}: empty image`);
  if (!sniffImage(bytes)) {
    throw new ScoringError(415, `${label}: not a JPEG, PNG, WebP, GIF or TIFF image`);
  }
  return bytes;
}

function sniffImage(b: Buffer): boolean {
  const ascii = (start: number, end: number): string => b.subarray(start, end).toString('latin1');
  return (
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || // JPEG
    ascii(0, 8) === '\x89PNG\r\n\x1a\n' ||
    ascii(0, 4) === 'GIF8' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') ||
    ascii(0, 4) === 'II*\x00' ||
    ascii(0, 4) === 'MM\x00*'
  );
}
