import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { destination, stdTimeFunctions } from 'pino';
import type { Options } from 'pino-http';

/** @see loggerParams */
export interface LoggingOptions {
  /** `LOG_LEVEL`: fatal, error, warn, info, debug, trace or silent. */
  level: string;
  /** `LOG_FORMAT`. @defaultValue `pretty` when stdout is a terminal, else `json` */
  format?: 'json' | 'pretty';
  /** `service` field of every line, e.g. `switchyard-api`. */
  service: string;
  /**
   * Requests get trace spans (the API with tracing on): their lines carry `trace_id`. Off, no
   * per-request binding is computed (pino-http makes a child logger for each one it gets).
   * @defaultValue false
   */
  traced?: boolean;
}

/** Health probes and metric scrapes: served, never logged. */
const PROBES = /^\/(?:v2\/health\/(?:live|ready)|health\/(?:live|ready)|metrics)\/?(?:\?|$)/;

/** True for health probes and metric scrapes (by URL), which are neither logged nor traced. */
export function isProbe(url: string): boolean {
  return PROBES.test(url);
}

/** An acceptable client-sent request id: printable, no spaces, at most 128 characters. */
const REQUEST_ID = /^[A-Za-z0-9._:/+=@-]{1,128}$/;

/** Trace id of a request's HTTP span (set by the API's tracing), so logs and traces join up. */
export const requestTraceIds = new WeakMap<IncomingMessage, string>();

/** Paths redacted wherever they appear, as a second line of defence behind the serializers. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  '*.authorization',
  '*["x-api-key"]',
  'req.body',
  'res.body',
  'body',
];

/**
 * nestjs-pino settings shared by the API and the workers: JSON lines (pretty on a terminal or
 * with LOG_FORMAT=pretty), a request id per request (`x-request-id` taken when sane, else a
 * UUID, and echoed in the response), one line per request except probes, and no headers or
 * bodies in any line (only method, URL, status, time and ids).
 */
export function loggerParams(options: LoggingOptions): Params {
  const pretty = options.format ? options.format === 'pretty' : Boolean(process.stdout.isTTY);
  const http = httpOptions(options, pretty);
  return {
    // nestjs-pino's default route pattern (`{/*splat}`) matches nothing on the Fastify adapter
    // of Nest 12.5; this one matches every path, `/` included.
    forRoutes: [{ path: '/{*splat}', method: RequestMethod.ALL }],
    // JSON to stdout written synchronously (as console output is on Linux), so the last lines
    // before a signal-triggered exit are not lost; pretty output goes through pino-pretty.
    pinoHttp: pretty ? http : [http, destination({ dest: 1, sync: true })],
  };
}

/**
 * pino-http's request id where nothing set one before (the API sets Fastify's request id in an
 * `onRequest` hook, which pino-http then takes): see `chooseRequestId`. Echoed back.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const id = chooseRequestId(req.headers['x-request-id']);
  if (!res.headersSent) res.setHeader('x-request-id', id);
  return id;
}

/** The client's `x-request-id` when acceptable (printable, no spaces, ≤ 128 chars), else a new UUID. */
export function chooseRequestId(given: unknown): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** pino-http options: the pino logger's own settings plus request logging. */
function httpOptions(options: LoggingOptions, pretty: boolean): Options<IncomingMessage, ServerResponse> {
  return {
    level: options.level,
    base: { service: options.service, pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
          },
        }
      : {}),
    genReqId: requestId,
    customAttributeKeys: { reqId: 'request_id' },
    quietReqLogger: true,
    // Nest's middleware wrapper may rewrite `req.url`; `originalUrl` is the request's own.
    autoLogging: {
      ignore: (req: IncomingMessage & { originalUrl?: string }) => isProbe(req.originalUrl ?? req.url ?? ''),
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : 'info',
    ...(options.traced
      ? {
          customProps: (req: IncomingMessage) => {
            const traceId = requestTraceIds.get(req);
            return traceId ? { trace_id: traceId } : {};
          },
        }
      : {}),
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
