import type { FastifyInstance } from 'fastify';
import { ScoringError } from '#contracts';

/** Deeper JSON is refused before parsing: nothing legitimate nests further (tensors ≤ 64 dims). */
export const MAX_JSON_DEPTH = 72;

/**
 * Content types the API reads: JSON (Fastify's parser, behind a nesting-depth check), multipart
 * (the plugin), and raw image bytes. Plain text is dropped, so any other type is refused with
 * 415 before a handler runs.
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
}

/**
 * Deepest nesting of arrays/objects in a JSON text, found in one pass without parsing (strings
 * skipped), so a hostile body cannot exhaust the parser's stack.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > deepest) deepest = depth;
      if (deepest > MAX_JSON_DEPTH) return deepest;
    } else if (c === 93 /* ] */ || c === 125 /* } */) {
      depth--;
    }
  }
  return deepest;
}
