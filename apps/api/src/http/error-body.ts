import { HttpException } from '@nestjs/common';
import { ScoringError } from '#contracts';

/** An error answer: `{"error": "..."}` with a status, as the inference protocol asks. */
export interface ErrorAnswer {
  status: number;
  body: { error: string };
  headers: Record<string, string>;
}

export function errorBody(err: unknown): ErrorAnswer {
  if (err instanceof ScoringError) {
    const headers: Record<string, string> = err.retryAfterSeconds
      ? { 'retry-after': String(err.retryAfterSeconds) }
      : {};
    return { status: err.status, body: { error: err.message }, headers };
  }
  if (err instanceof HttpException) {
    // Nest's Fastify adapter wraps Fastify's own 4xx errors (body parsing, content type) in an
    // HttpException; answer those with the messages below, not Fastify's bare status texts.
    const cause = err.cause as { code?: unknown; message?: string } | undefined;
    if (typeof cause?.code === 'string' && cause.code.startsWith('FST_')) {
      return { status: err.getStatus(), body: { error: fastifyMessage(cause.code, cause.message) }, headers: {} };
    }
    const response = err.getResponse();
    return { status: err.getStatus(), body: { error: messageOf(response) ?? err.message }, headers: {} };
  }
  const fastify = err as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, body: { error: fastifyMessage(fastify.code, fastify.message) }, headers: {} };
  }
  return { status: 500, body: { error: 'internal error' }, headers: {} };
}

function messageOf(response: string | object): string | undefined {
  if (typeof response === 'string') return response;
  const r = response as { error?: unknown; message?: unknown };
  if (typeof r.error === 'string' && r.message === undefined) return r.error;
  if (Array.isArray(r.message)) return r.message.join('; ');
  if (typeof r.message === 'string') return r.message;
  return typeof r.error === 'string' ? r.error : undefined;
}

function fastifyMessage(code: string | undefined, message: string | undefined): string {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is larger than the limit (BODY_LIMIT_BYTES)';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported content type: send application/json (friendly routes also take multipart/form-data and image/*)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'empty JSON body';
    default:
      return message?.startsWith('Unexpected') || code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? `malformed JSON: ${message}`
        : (message ?? 'bad request');
  }
}
