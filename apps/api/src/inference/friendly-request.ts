import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import type { CatalogEntry } from '#runtime';
import { readFriendlyInput, type FriendlyInput } from './friendly-input.js';
import { observations } from '../observability/request-scope.js';
import type { ScoreRequest } from './scoring.service.js';

/**
 * Reads a friendly request (JSON, multipart or raw image) for a model or deployment and checks
 * it fits the model's handler: text for text classifiers, images for image classifiers.
 */
export async function friendlyRequest(
  entry: CatalogEntry,
  req: FastifyRequest,
  /** Where to send tensors instead, named in the error for a tensor-only model. */
  tensorRoute = 'the inference protocol route (…/infer)',
): Promise<{ request: ScoreRequest; input: FriendlyInput }> {
  const { name, handler: kind, maxBatchSize } = entry.metadata;
  if (kind === 'tensor') {
    throw ScoringError.badRequest(`model '${name}' takes tensors only: use ${tensorRoute}`);
  }
  const input = await readFriendlyInput(req, Math.max(1, maxBatchSize));
  const wantsImages = kind === 'image-classification';
  if (wantsImages ? !input.images : !input.texts) {
    throw ScoringError.badRequest(`model '${name}' (${kind}) takes ${wantsImages ? 'images' : 'text'}`);
  }
  const items = (input.images ?? input.texts)!.length;
  if (items > maxBatchSize) {
    throw ScoringError.badRequest(`${items} items exceed the model's max_batch_size ${maxBatchSize}`);
  }
  const request: ScoreRequest = {
    model: name,
    kind: 'friendly',
    payload: wantsImages ? { images: input.images } : { texts: input.texts },
    parameters: input.topK !== undefined ? { top_k: input.topK } : undefined,
    timeoutMs: input.timeoutMs ?? req.headers['x-timeout-ms'],
    priority: input.priority ?? req.headers['x-priority'],
    observation: observations.get(req.raw),
  };
  return { request, input };
}
