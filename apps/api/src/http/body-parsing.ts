import type { FastifyInstance } from 'fastify';
import { INFERENCE_HEADER_CONTENT_LENGTH, ScoringError } from '#contracts';
import { parseBinaryInferBody } from './binary-body.js';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * Content types the API reads: JSON (Fastify's parser, behind a nesting-depth check), multipart
 * (the plugin), raw image bytes, and binary inference bodies (`application/octet-stream`).
 * Plain text is dropped, so any other type is refused with 415 before a handler runs.
 */
export function configureBodyParsing(fastify: FastifyInstance, bodyLimit: number): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const depth = jsonDepth(body as string);
    if (depth > MAX_JSON_DEPTH) {
      done(ScoringError.badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(req, body as string, done);
  });
  fastify.addContentTypeParser(/^image\/[a-z0-9.+-]+$/i, { parseAs: 'buffer', bodyLimit }, (_req, body, done) =>
    done(null, body),
  );
  // The binary tensor data extension: JSON, then raw tensor bytes (binary-body.ts).
  fastify.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    try {
      done(null, parseBinaryInferBody(body as Buffer, req.headers[INFERENCE_HEADER_CONTENT_LENGTH]));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
