/**
 * `Retry-After` in seconds: delta-seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/**
 * How long to wait before retry number `retry` (from 1): what the server asked for, else
 * exponential backoff from `baseMs` with jitter; never more than `maxMs`.
 */
export function retryDelayMs(retry: number, retryAfterS: number | undefined, baseMs: number, maxMs: number): number {
  const wanted = retryAfterS !== undefined ? retryAfterS * 1000 : baseMs * 2 ** (retry - 1) * (0.5 + Math.random() / 2);
  return Math.min(maxMs, Math.max(0, wanted));
}
