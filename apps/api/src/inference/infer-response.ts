import type { FastifyReply } from 'fastify';
import { encodeBytesElements, INFERENCE_HEADER_CONTENT_LENGTH, ScoringError, type WireTensor } from '#contracts';
import { toOrtTensor } from '#runtime';
import type { InferRequestDto } from './infer-request.dto.js';

/** The Open Inference Protocol's inference response. */
export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: WireTensor[];
}

/**
 * Which outputs a request wants as binary data (binary tensor data extension): an output's
 * `parameters.binary_data`, else the request's `parameters.binary_data_output`. Undefined
 * when none may be.
 *
 * @throws ScoringError (400) when either flag is not a boolean.
 */
export function binaryOutputs(body: InferRequestDto): ((name: string) => boolean) | undefined {
  const all = flag('parameters.binary_data_output', body.parameters?.binary_data_output) ?? false;
  const each = new Map<string, boolean>();
  for (const [i, o] of (body.outputs ?? []).entries()) {
    const wants = flag(`outputs[${i}].parameters.binary_data`, o.parameters?.binary_data);
    if (wants !== undefined) each.set(o.name, wants);
  }
  if (!all && ![...each.values()].includes(true)) return undefined;
  return (name) => each.get(name) ?? all;
}

/**
 * The response as sent: JSON, or, when binary outputs are asked for, the JSON followed by
 * their bytes in output order, with `Inference-Header-Content-Length` giving the JSON's length.
 */
export function inferResponse(
  res: FastifyReply,
  binary: ReturnType<typeof binaryOutputs>,
  response: InferResponse,
): InferResponse | Buffer {
  if (!binary) return response;
  const parts: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (!binary(o.name)) return o;
    const bytes = outputBytes(o);
    parts.push(bytes);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { ...o.parameters, binary_data_size: bytes.length } };
  });
  const json = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  void res
    .header('content-type', 'application/octet-stream')
    .header(INFERENCE_HEADER_CONTENT_LENGTH, String(json.length));
  return Buffer.concat([json, ...parts]);
}

/** Little-endian bytes of an output, through the same codec that builds model inputs. */
function outputBytes(o: WireTensor): Buffer {
  if (o.datatype === 'BYTES') return encodeBytesElements(o.data as string[]);
  const view = toOrtTensor(o).data as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function flag(what: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw ScoringError.badRequest(`${what}: must be a boolean`);
}

/** Async results are read later as JSON (`GET /v1/jobs/{id}`, webhooks), never as binary. */
export function refuseAsyncBinary(binary: ReturnType<typeof binaryOutputs>): void {
  if (binary) {
    throw ScoringError.badRequest(
      'binary outputs (binary_data, binary_data_output) are not available for async requests: their results are JSON',
    );
  }
}
