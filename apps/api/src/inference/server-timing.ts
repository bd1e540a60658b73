import type { Timings } from '#contracts';

/** `Server-Timing` header value, so browsers' and clients' tools show where the time went. */
export function serverTiming(t: Timings): string {
  const parts = [`queue;dur=${t.queue}`, `preprocess;dur=${t.preprocess}`, `inference;dur=${t.inference}`];
  if (t.total !== undefined) parts.push(`total;dur=${t.total}`);
  if (t.batchSize !== undefined) parts.push(`batch;desc="${t.batchSize}"`);
  return parts.join(', ');
}
