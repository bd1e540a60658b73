import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import type { VersionUpload } from './registry.service.js';

/**
 * Reads a multipart version upload. Fields must come before the `file` part (the file is
 * streamed straight to the model store while it arrives, never held in memory).
 */
export async function readVersionUpload<T>(
  req: FastifyRequest,
  maxBytes: number,
  register: (upload: VersionUpload) => Promise<T>,
): Promise<T> {
  const fields: Omit<VersionUpload, 'file'> = {};
  for await (const part of req.parts({ limits: { fileSize: maxBytes, files: 2 } })) {
    if (part.type === 'file') {
      if (part.fieldname === 'labels') {
        fields.labels = await part.toBuffer();
        continue;
      }
      if (part.fieldname !== 'file') throw ScoringError.badRequest(`unexpected file field '${part.fieldname}'`);
      return register({ ...fields, file: part.file });
    }
    const value = String(part.value);
    switch (part.fieldname) {
      case 'config':
        fields.config = parseJsonField('config', value) as Record<string, unknown>;
        break;
      case 'tags':
        fields.tags = parseJsonField('tags', value) as Record<string, string>;
        break;
      case 'version':
        if (!/^[1-9][0-9]*$/.test(value)) throw ScoringError.badRequest('version: must be a positive integer');
        fields.version = value;
        break;
      case 'description':
        fields.description = value.slice(0, 1000);
        break;
      default:
        throw ScoringError.badRequest(`unexpected form field '${part.fieldname}'`);
    }
  }
  throw ScoringError.badRequest("the form has no 'file' part with the ONNX model");
}

function parseJsonField(name: string, value: string): unknown {
  try {
    const parsed: unknown = JSON.parse(value);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed;
  } catch (err) {
    throw ScoringError.badRequest(`${name}: must be a JSON object (${(err as Error).message})`);
  }
}
