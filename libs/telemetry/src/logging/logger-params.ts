import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Paths redacted wherever they appear, as a second line of defence behind what each line picks. */
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
 * with LOG_FORMAT=pretty), and no headers or bodies in any line.
 *
 * nestjs-pino's per-request middleware is not used (no routes): it gave each request a pino-http
 * child logger and ran the handler in an AsyncLocalStorage, which together with Nest's
 * middleware layer cost the API ~25% of its CPU per scoring request. The API writes one line
 * per request itself instead (installAccessLog), with the request id (`x-request-id` taken
 * when sane, else a UUID, and echoed: installHttpTelemetry).
 */
export function loggerParams(options: LoggingOptions): Params {
  const pretty = options.format ? options.format === 'pretty' : Boolean(process.stdout.isTTY);
  const root = rootOptions(options, pretty);
  return {
    forRoutes: [],
    // JSON to stdout written synchronously (as console output is on Linux), so the last lines
    // before a signal-triggered exit are not lost; pretty output goes through pino-pretty.
    pinoHttp: pretty ? root : [root, destination({ dest: 1, sync: true })],
  };
}

/** The client's `x-request-id` when acceptable (printable, no spaces, ≤ 128 chars), else a new UUID. */
export function chooseRequestId(given: unknown): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The root logger's own settings (pino-http builds it from them; it logs no requests here). */
function rootOptions(options: LoggingOptions, pretty: boolean): Options<IncomingMessage, ServerResponse> {
  return {
    level: options.level,
    base: { service: options.service, pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    autoLogging: false,
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
          },
        }
      : {}),
  };
}
