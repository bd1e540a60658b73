import { ScoringError } from '#contracts';
import { binaryDataSize } from '#runtime';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * Parses an `application/octet-stream` inference body of the binary tensor data extension:
 * JSON of `Inference-Header-Content-Length` bytes, then the data of every input whose
 * `parameters.binary_data_size` is set, in input order. Each such input gets its bytes as
 * `data` (a view of the body, no copy); their datatype and shape are checked later, against
 * the model, like JSON data.
 *
 * @throws ScoringError (400) naming what is wrong: no or a bad header, JSON that does not
 *   parse, an input with both JSON data and a binary size, sizes that overrun the body, or
 *   bytes that no input claims.
 */
export function parseBinaryInferBody(body: Buffer, header: string | string[] | undefined): unknown {
  if (header === undefined) {
    throw ScoringError.badRequest(
      `an application/octet-stream inference body needs the Inference-Header-Content-Length header (binary tensor data extension)`,
    );
  }
  const jsonLength = Number(header);
  if (typeof header !== 'string' || !/^\d+$/.test(header) || jsonLength < 2 || jsonLength > body.length) {
    throw ScoringError.badRequest(
      `Inference-Header-Content-Length must be the length in bytes of the JSON at the start of the body (2 to ${body.length}), got ${JSON.stringify(header)}`,
    );
  }
  const text = body.toString('utf8', 0, jsonLength);
  if (jsonDepth(text) > MAX_JSON_DEPTH)
    throw ScoringError.badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch (err) {
    throw ScoringError.badRequest(`the JSON of the binary body does not parse: ${(err as Error).message}`);
  }
  const inputs = (request as { inputs?: unknown } | null)?.inputs;
  let at = jsonLength;
  if (Array.isArray(inputs)) {
    for (const [i, input] of inputs.entries()) {
      if (typeof input !== 'object' || input === null) continue; // the DTO check names it
      const name = typeof input.name === 'string' ? `input '${input.name}'` : `inputs[${i}]`;
      const size = binaryDataSize(name, input.parameters);
      if (size === undefined) continue;
      if ('data' in input) throw ScoringError.badRequest(`${name}: has both data and parameters.binary_data_size`);
      if (at + size > body.length) {
        throw ScoringError.badRequest(
          `${name}: parameters.binary_data_size ${size} runs past the end of the body (${body.length - at} bytes left)`,
        );
      }
      input.data = body.subarray(at, at + size);
      at += size;
    }
  }
  if (at !== body.length) {
    throw ScoringError.badRequest(
      `${body.length - at} bytes after the JSON are not claimed by any input's parameters.binary_data_size`,
    );
  }
  return request;
}
