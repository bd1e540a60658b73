import type { FastifyReply } from 'fastify';
import type { CallerGone } from '#runtime';

/**
 * Aborts when the client goes away before its response is written (connection closed), so
 * the job is removed from its queue or skipped by the worker instead of computed for nobody.
 * A plain object over the response's 'close' event: an AbortController per request cost the
 * API ~4 µs (measured).
 */
export function clientGone(res: FastifyReply): CallerGone {
  const raw = res.raw;
  return {
    // A client may leave before the handler runs (while the body is parsed and validated, or
    // while the API is busy): the response is destroyed already then.
    get aborted() {
      return raw.destroyed && !raw.writableFinished;
    },
    addEventListener(_type, listener) {
      raw.once('close', () => {
        if (!raw.writableFinished) listener();
      });
    },
  };
}
