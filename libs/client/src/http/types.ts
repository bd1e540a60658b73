import type { JobStatusBody, Timings, WireTensor } from '../../../contracts/src/index.js';

export type { JobStatusBody } from '../../../contracts/src/index.js';

/** Options of `new SwitchyardHttpClient(...)`. */
export interface SwitchyardHttpClientOptions {
  /** Where the API listens, e.g. `http://switchyard:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. @defaultValue none */
  apiKey?: string;
  /** Per-request timeout (ms), sending to reading the whole answer. @defaultValue 30000 */
  timeoutMs?: number;
  /** Retries of an answer 429 or 503 (after Retry-After, bounded by maxRetryDelayMs). @defaultValue 2 */
  retries?: number;
  /** Backoff base (ms) of a retry when the server sends no Retry-After. @defaultValue 200 */
  retryBaseMs?: number;
  /** Longest wait before one retry (ms), whatever Retry-After says. @defaultValue 10000 */
  maxRetryDelayMs?: number;
  /** fetch implementation. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

/** Friendly input of `score` / `scoreAsync`: exactly one of these. */
export type FriendlyInput = { text: string } | { texts: string[] } | { image: string } | { images: string[] };

/** Per-call options of `score` and `scoreAsync`. */
export interface ScoreOptions {
  /** Model version. @defaultValue the newest served */
  version?: string;
  /** Classes per item. @defaultValue the model's handler.top_k */
  topK?: number;
  /** Lowers the server-side deadline (ms). @defaultValue the model's (sync) or ASYNC_DEFAULT_TIMEOUT_MS (async) */
  deadlineMs?: number;
  /** Queue priority, 0 first. @defaultValue 0 (sync), ASYNC_DEFAULT_PRIORITY (async) */
  priority?: number;
}

/** Per-call options of `scoreAsync`. */
export interface ScoreAsyncOptions extends ScoreOptions {
  /** Webhook told the outcome; its host must be on the server's WEBHOOK_ALLOWED_HOSTS. @defaultValue none */
  callbackUrl?: string;
}

/** Answer of `POST /v1/models/{m}:predict`. */
export interface PredictResponse {
  model: string;
  version: string;
  predictions: unknown[];
  timings_ms: Timings;
}

/** OIP request body of `infer`. */
export interface InferRequest {
  id?: string;
  inputs: WireTensor[];
  outputs?: { name: string }[];
  parameters?: Record<string, unknown>;
}

/** OIP answer of `infer`. */
export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: WireTensor[];
}

/** Options of `waitForJob`. */
export interface WaitOptions {
  /** Interval between status reads (ms). @defaultValue 500 */
  pollMs?: number;
  /** Give up after this long (ms), with a ClientTimeoutError. @defaultValue 60000 */
  timeoutMs?: number;
}

/** A finished job. */
export type FinishedJob = JobStatusBody & { status: 'succeeded' | 'failed' | 'expired' };
