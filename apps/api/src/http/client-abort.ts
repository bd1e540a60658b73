import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client goes away before its response is written (connection closed), so
 * the job is removed from its queue or skipped by the worker instead of computed for nobody.
 */
export function clientGone(res: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.raw.writableFinished) controller.abort();
  };
  // A client may leave before the handler runs (while the body is parsed and validated, or
  // while the API is busy): 'close' has fired already then, and the signal starts aborted.
  if (res.raw.destroyed) onClose();
  else res.raw.once('close', onClose);
  return controller.signal;
}
