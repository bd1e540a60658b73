import type { FastifyRequest } from 'fastify';
import type { CatalogEntry } from '#runtime';
import { ScoringError } from '#contracts';
import { binaryDataSize, validateInputs, validateOutputNames } from '#runtime';
import type { InferRequestDto } from './infer-request.dto.js';
import { observations } from '../observability/request-scope.js';
import type { ScoreRequest } from './scoring.service.js';

/** Checks an OIP infer body against the model's signature and turns it into a score request. */
export function tensorRequest(entry: CatalogEntry, body: InferRequestDto, req: FastifyRequest): ScoreRequest {
  for (const input of body.inputs) {
    // Only the binary body parser (binary-body.ts) puts bytes in `data`.
    if (
      binaryDataSize(`input '${input.name}'`, input.parameters) !== undefined &&
      !(input.data instanceof Uint8Array)
    ) {
      throw ScoringError.badRequest(
        `input '${input.name}': parameters.binary_data_size needs a binary body (Content-Type: application/octet-stream with an Inference-Header-Content-Length header)`,
      );
    }
  }
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
