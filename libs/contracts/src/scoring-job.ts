import type { InputTensor, WireTensor } from './tensor.js';

/** Per-request settings that travel inside the job. */
export interface ScoringParameters {
  /** Output names to return; all outputs when absent. */
  outputs?: string[];
  /** Handler options for friendly requests (e.g. `top_k`). */
  [key: string]: unknown;
}

/**
 * The payload of one scoring job. It is typed once here and used by every producer and
 * consumer: API, embedded transport, queue worker.
 */
export interface ScoringJob {
  /** Correlation id: matches the reply to the waiting caller. Unique per request. */
  id: string;
  /** Request id the client sent (OIP `id`), echoed in the response. */
  requestId?: string;
  model: string;
  /** The queue (deployment) that carries the job; the model's own queue when absent. */
  queue?: string;
  /** Endpoint and deployment names when the request came through an endpoint (metrics, logs). */
  endpoint?: string;
  deployment?: string;
  /** True for mirrored copies: computed and measured, their replies discarded. */
  mirror?: boolean;
  /** Requested version; the worker's newest loaded version when absent. */
  version?: string;
  /** What the worker is asked to do: raw tensors, or a handler's friendly input. */
  kind: 'tensors' | 'friendly';
  /** For `tensors` jobs. */
  inputs?: InputTensor[];
  /**
   * For `friendly` jobs: handler-specific input (texts, images, ...). Images are bytes
   * (`Uint8Array`) in process, or base64 text; in Redis, large ones are blob references
   * (`{"$blob": i}`) to `blobs` binary strings stored beside the job (see job-blobs.ts).
   */
  payload?: unknown;
  /** Byte payloads stored beside the job in Redis (`<prefix>:_blob:<id>:<i>`), when any. */
  blobs?: number;
  parameters?: ScoringParameters;
  /** Reply channel of the API instance waiting for this job. */
  replyTo: string;
  /**
   * Queue priority: 0 (default) is served first, in arrival order; 1, 2, ... wait until no
   * default job is waiting, lower numbers first. Bulk callers use a positive priority.
   */
  priority?: number;
  /** Absolute deadline (epoch ms). The job is never computed after it. */
  deadline: number;
  /** Epoch ms when the API accepted the request. */
  acceptedAt: number;
  /**
   * Set for async jobs: nobody waits on `replyTo`. The worker stores the reply as the job's
   * outcome (`<prefix>:_job:<id>`, kept `ttlS` seconds) in its reply pipeline instead of
   * publishing it, and with `notify` also pushes the id on `<prefix>:_async_done` so an API
   * instance sends the webhook at once.
   */
  async?: { ttlS: number; notify?: boolean };
  /**
   * W3C trace context of the API's enqueue span (`traceparent`, `tracestate`), so the worker's
   * spans join the request's trace. Present only when tracing is on.
   */
  trace?: Record<string, string>;
}

/**
 * What one BullMQ job carries on a queue: a single job (async jobs, whose id is the BullMQ job
 * id that `GET /v1/jobs/{id}` looks up), or an envelope of the synchronous requests one API
 * instance accepted for the same queue and priority in one turn of its event loop. An envelope
 * costs Redis one add, one pick-up and one completion for all its requests: BullMQ's scripts
 * are paid per envelope, not per request.
 */
export type QueuedWork = ScoringJob | ScoringEnvelope;

export interface ScoringEnvelope {
  /** The requests, each with its own id, reply channel and deadline. */
  items: ScoringJob[];
}

export function isEnvelope(work: QueuedWork): work is ScoringEnvelope {
  return Array.isArray((work as ScoringEnvelope).items);
}

/** Where the time of one request went, in milliseconds. */
export interface Timings {
  queue: number;
  preprocess: number;
  inference: number;
  total?: number;
  /** Items in the batch this request ran in. */
  batchSize?: number;
}

export interface ScoringSuccess {
  id: string;
  ok: true;
  model: string;
  version: string;
  outputs?: WireTensor[];
  /** Friendly handler result (predictions). */
  result?: unknown;
  timings: Timings;
}

export interface ScoringFailure {
  id: string;
  ok: false;
  /** HTTP status the API should answer with. */
  status: number;
  error: string;
}

export type ScoringReply = ScoringSuccess | ScoringFailure;
