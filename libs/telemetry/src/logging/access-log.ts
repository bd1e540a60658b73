import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isProbe, requestTraceIds } from './logger-params.js';

/**
 * One JSON line per HTTP request once it is answered (or the client went away), probes
 * excepted: method, URL, status, time and ids, never headers or bodies. `logger` is read when
 * a line is written, because the root logger is made once the Nest app exists, after the
 * Fastify hooks are added. 5xx answers are logged at `error`, the rest at `info`.
 */
export function installAccessLog(fastify: FastifyInstance, logger: () => Logger): void {
  let root: Logger | undefined;
  let access: Logger | undefined;
  // pino-http gives the root logger serializers for raw requests and responses under `req` and
  // `res`; the lines here carry plain objects under those keys, written as they are.
  const log = (): Logger => {
    const current = logger();
    if (current !== root || !access) {
      root = current;
      access = current.child({}, { serializers: { req: asIs, res: asIs } });
    }
    return access;
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    // The line is only built when it is written (LOG_LEVEL=warn writes none for 2xx).
    if (!isProbe(request.url) && log().isLevelEnabled(level))
      log()[level](line(request, reply.statusCode, reply.elapsedTime), 'request completed');
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    if (!isProbe(request.url) && log().isLevelEnabled('info'))
      log().info(line(request, 499, undefined), 'request aborted');
    done();
  });
}

const asIs = (value: unknown): unknown => value;

function line(request: FastifyRequest, status: number, elapsedMs: number | undefined): Record<string, unknown> {
  const traceId = requestTraceIds.get(request.raw);
  return {
    request_id: request.id,
    req: { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip },
    res: { statusCode: status },
    ...(elapsedMs !== undefined ? { responseTime: Math.round(elapsedMs) } : {}),
    ...(traceId ? { trace_id: traceId } : {}),
  };
}
