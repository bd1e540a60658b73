import type { FastifyRequest } from 'fastify';
import type { CatalogEntry } from '#runtime';
import { validateInputs, validateOutputNames } from '#runtime';
import type { InferRequestDto } from './infer-request.dto.js';
import { observations } from '../observability/request-scope.js';
import type { ScoreRequest } from './scoring.service.js';

/** Checks an OIP infer body against the model's signature and turns it into a score request. */
export function tensorRequest(entry: CatalogEntry, body: InferRequestDto, req: FastifyRequest): ScoreRequest {
  const { inputs } = validateInputs(entry.metadata, body.inputs);
  const outputs = validateOutputNames(entry.metadata, body.outputs);
  return {
    model: entry.metadata.name,
    kind: 'tensors',
    inputs,
    parameters: outputs ? { outputs } : undefined,
    requestId: body.id,
    timeoutMs: body.parameters?.timeout_ms ?? req.headers['x-timeout-ms'],
    priority: body.parameters?.priority ?? req.headers['x-priority'],
    observation: observations.get(req.raw),
  };
}
